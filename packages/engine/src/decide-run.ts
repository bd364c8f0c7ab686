import { AppError, jobIds } from '@agentry/schema';
import { dispatchSteps } from './dispatch-steps';
import type { EngineDeps } from './engine-deps';

export interface Decision {
  runId: string;
  actor: string;
  reason?: string;
}

/** Every decision is an audit event and a log line with the run's correlation id. */
async function recordDecision(
  deps: EngineDeps,
  run: { id: string; correlationId: string },
  decision: Decision,
  verb: 'approve' | 'reject' | 'cancel',
) {
  await deps.repos.audit.record({
    actor: decision.actor,
    action: `run.${verb}`,
    targetType: 'run',
    targetId: run.id,
    details: { reason: decision.reason ?? null },
  });
  deps.log.info(
    {
      runId: run.id,
      correlationId: run.correlationId,
      actor: decision.actor,
      reason: decision.reason,
    },
    `run ${verb === 'approve' ? 'approved' : verb === 'reject' ? 'rejected' : 'cancelled'}`,
  );
}

async function requireRun(deps: EngineDeps, runId: string) {
  const run = await deps.repos.runs.get(runId);
  if (!run) throw new AppError('NOT_FOUND', `run ${runId} does not exist`);
  return run;
}

/** Release a run waiting in `awaiting_approval`: its root steps are enqueued. */
export async function approveRun(deps: EngineDeps, decision: Decision) {
  const run = await requireRun(deps, decision.runId);
  const approved = await deps.repos.runs.approve(run.id);
  if (!approved) {
    throw new AppError('CONFLICT', `run ${run.id} is ${run.state}, not awaiting approval`, {
      details: { state: run.state },
    });
  }
  await recordDecision(deps, run, decision, 'approve');
  await dispatchSteps(deps, run.id, run.correlationId, approved.roots);
  return { runId: run.id, state: 'running' as const };
}

/** Refuse a run waiting for approval. */
export async function rejectRun(deps: EngineDeps, decision: Decision) {
  const run = await requireRun(deps, decision.runId);
  if (run.state !== 'awaiting_approval') {
    throw new AppError('CONFLICT', `run ${run.id} is ${run.state}, not awaiting approval`, {
      details: { state: run.state },
    });
  }
  const rejected = await deps.repos.runs.reject(run.id, decision.reason ?? 'rejected');
  if (!rejected) throw new AppError('CONFLICT', `run ${run.id} changed state meanwhile`);
  await recordDecision(deps, run, decision, 'reject');
  return { runId: run.id, state: 'rejected' as const };
}

/**
 * Cancel a run that has not finished. Steps not yet started are cancelled; a step in flight
 * finishes but nothing after it starts; completed steps are compensated in reverse order.
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
  // Decide on what the cancel actually left behind, not on the state read before it: a run read
  // as `awaiting_approval` may have been approved (and a step completed) meanwhile, and a running
  // run whose steps had not completed has nothing to undo (no empty compensate job).
  const toUndo = await deps.repos.steps.forCompensation(run.id);
  if (toUndo.length > 0) {
    await deps.producer.enqueue(
      'compensate',
      {
        runId: run.id,
        correlationId: run.correlationId,
        reason: `cancelled: ${decision.reason ?? 'no reason given'}`,
      },
      { jobId: jobIds.compensate(run.id) },
    );
  }
  return { runId: run.id, state: 'cancelled' as const };
}
