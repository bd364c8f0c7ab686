import { AppError, jobIds } from '@agentry/schema';
import type { EngineDeps } from './engine-deps';

/**
 * Enqueue step jobs for steps the database already marked `queued`. Job ids are deterministic,
 * so dispatching a step twice is a no-op (the count of jobs actually created is returned); call it again after any crash between commit and enqueue.
 */
export async function dispatchSteps(
  deps: EngineDeps,
  runId: string,
  correlationId: string,
  stepIds: readonly string[],
): Promise<number> {
  let created = 0;
  for (const stepId of stepIds) {
    const step = await deps.repos.steps.get(runId, stepId);
    if (!step) throw new AppError('NOT_FOUND', `step ${stepId} of run ${runId} does not exist`);
    const result = await deps.producer.enqueue(
      'step',
      { runId, stepId, correlationId },
      { jobId: jobIds.step(runId, stepId), attempts: step.maxAttempts },
    );
    if (result.created) created += 1;
  }
  return created;
}
