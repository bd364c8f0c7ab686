import { jobIds } from '@agentry/schema';
import { traceFieldFor, type EngineDeps, type RunRef } from './engine-deps';

/**
 * Queue the undo of a failed run's completed steps (idempotent per `jobId`, by default one per
 * run). Nothing is enqueued when no step is waiting for compensation. Returns how many completed
 * steps the job will undo (0: no job).
 */
export async function enqueueCompensation(
  deps: EngineDeps,
  run: RunRef,
  reason: string,
  jobId = jobIds.compensate(run.id),
): Promise<number> {
  const { id: runId, correlationId, tenantId } = run;
  const toUndo = await deps.repos.steps.forCompensation(runId);
  if (toUndo.length === 0) return 0;
  await deps.producer.enqueue(
    'compensate',
    {
      runId,
      correlationId,
      reason: reason.slice(0, 2_000),
      ...(tenantId ? { tenantId } : {}),
      ...traceFieldFor(deps, runId),
    },
    { jobId },
  );
  return toUndo.length;
}
