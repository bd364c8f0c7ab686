import { AppError, jobIds, queueNames } from '@agentry/schema';
import { requireRun, type Decision } from './decide-run';
import { dispatchSteps } from './dispatch-steps';
import type { EngineDeps } from './engine-deps';

const notStarted = ['waiting', 'delayed', 'prioritized', 'paused'] as const;

/**
 * Resume a run that failed at `stepId` — its dead letter was replayed — so that it proceeds:
 * the failed step and every step cancelled or compensated since run again (see
 * `RunRepository.resume`). A compensation of the run that has not started is withdrawn (there is
 * nothing to undo now); one that is running must end first (`CONFLICT`). The step's dead letter is
 * marked replayed; audited as `run.resume`. `CONFLICT` when the run did not fail at that step.
 */
export async function resumeRun(deps: EngineDeps, decision: Decision & { stepId: string }) {
  const run = await requireRun(deps, decision.runId);
  const compensation = await deps.producer.remove(
    'compensate',
    jobIds.compensate(run.id),
    notStarted,
  );
  if (compensation.state === 'active') {
    throw new AppError(
      'CONFLICT',
      `run ${run.id} is being compensated; replay its step once the compensation has ended`,
      { details: { compensation: 'active' } },
    );
  }
  const result = await deps.repos.runs.resume(run.id, decision.stepId);
  if (result.outcome === 'unknown') throw new AppError('NOT_FOUND', `run ${run.id} does not exist`);
  if (result.outcome === 'not-resumable') {
    throw new AppError(
      'CONFLICT',
      `run ${run.id} is ${result.runState} and its step ${decision.stepId} is ${result.stepState ?? 'unknown'}: only a run that failed at that step resumes`,
      { details: { state: result.runState, stepState: result.stepState } },
    );
  }
  const jobId = jobIds.step(run.id, decision.stepId);
  const deadLetterId = await deps.repos.deadLetters.markJobReplayed(queueNames.step, jobId);
  await deps.repos.audit.record({
    actor: decision.actor,
    action: 'run.resume',
    targetType: 'run',
    targetId: run.id,
    details: {
      stepId: decision.stepId,
      reason: decision.reason ?? null,
      deadLetterId: deadLetterId ?? null,
    },
  });
  deps.log.info(
    {
      runId: run.id,
      correlationId: run.correlationId,
      stepId: decision.stepId,
      actor: decision.actor,
    },
    'run resumed from its failed step',
  );
  await dispatchSteps(deps, run, result.ready);
  return {
    runId: run.id,
    state: 'running' as const,
    queued: result.ready.map((s) => s.stepId),
    ...(deadLetterId === undefined ? {} : { deadLetterId }),
  };
}
