import { AppError, jobIds, toAppError } from '@agentry/schema';
import { enqueueCompensation } from './compensate-run';
import { recordDecision, requireRun, type Decision } from './decide-run';
import type { EngineDeps } from './engine-deps';

/**
 * Cancel a run that has not finished. Steps not yet started are cancelled and their queued jobs
 * taken back; running steps are told through their AbortSignal (a step whose tool ignores it
 * finishes and is then compensated); completed steps are compensated in reverse order. Answers
 * what the run spent (settled: every call made is recorded).
 */
export async function cancelRun(deps: EngineDeps, decision: Decision) {
  const run = await requireRun(deps, decision.runId);
  const cancelled = await deps.repos.runs.cancel(run.id, decision.reason ?? 'cancelled');
  if (!cancelled) {
    throw new AppError('CONFLICT', `run ${run.id} is already ${run.state}`, {
      details: { state: run.state },
    });
  }
  await recordDecision(deps, run, decision, 'cancel');
  const steps = (await deps.repos.runs.detail(run.id))?.steps ?? [];
  const withdrawn = await withdrawJobs(
    deps,
    run,
    steps.filter((s) => s.state === 'cancelled').map((s) => s.stepId),
  );
  const running = steps.filter((s) => s.state === 'running').length;
  if (running > 0) {
    await deps.announceCancel?.(run.id).catch((e: unknown) => {
      deps.log.warn(
        { runId: run.id, correlationId: run.correlationId, err: toAppError(e) },
        'cancel not announced to executors: running steps end at their timeout',
      );
    });
  }
  // Decide on what the cancel actually left behind, not on the state read before it: a run read
  // as `awaiting_approval` may have been approved (and a step completed) meanwhile, and a running
  // run whose steps had not completed has nothing to undo (no empty compensate job).
  const compensating = await enqueueCompensation(
    deps,
    run,
    `cancelled: ${decision.reason ?? 'no reason given'}`,
  );
  const spentUsd = (await deps.repos.costs.runSpend(run.id))?.spentUsd ?? 0;
  return {
    runId: run.id,
    state: 'cancelled' as const,
    withdrawnJobs: withdrawn,
    runningSteps: running,
    compensating,
    spentUsd,
  };
}

const notStarted = ['waiting', 'delayed', 'prioritized', 'paused'] as const;

/** Take back the queued jobs of cancelled steps (best effort: one that starts anyway skips). */
async function withdrawJobs(
  deps: EngineDeps,
  run: { id: string; correlationId: string },
  stepIds: readonly string[],
): Promise<number> {
  let withdrawn = 0;
  for (const stepId of stepIds) {
    try {
      const { removed } = await deps.producer.remove(
        'step',
        jobIds.step(run.id, stepId),
        notStarted,
      );
      if (removed) withdrawn += 1;
    } catch (e) {
      deps.log.warn(
        { runId: run.id, correlationId: run.correlationId, stepId, err: toAppError(e) },
        'queued step job not withdrawn; it will skip when it runs',
      );
    }
  }
  return withdrawn;
}
