import type { ReadyStep } from '@agentry/db';
import { AppError, jobIds } from '@agentry/schema';
import type { EngineDeps } from './engine-deps';

/**
 * Enqueue step jobs for steps the database already marked `queued`. Job ids are deterministic,
 * so dispatching a step twice is a no-op (the count of jobs actually created is returned); call
 * it again after any crash between commit and enqueue. Pass `{ stepId, maxAttempts }` (what
 * `complete`, `savePlan`, `approve` and `queued` return) to enqueue without reading the step; a
 * bare step id costs one read of the step (`NOT_FOUND` when it does not exist).
 */
export async function dispatchSteps(
  deps: EngineDeps,
  runId: string,
  correlationId: string,
  steps: ReadonlyArray<string | ReadyStep>,
): Promise<number> {
  let created = 0;
  for (const s of steps) {
    const step = typeof s === 'string' ? await deps.repos.steps.get(runId, s) : s;
    if (!step) throw new AppError('NOT_FOUND', `step ${String(s)} of run ${runId} does not exist`);
    const result = await deps.producer.enqueue(
      'step',
      { runId, stepId: step.stepId, correlationId },
      { jobId: jobIds.step(runId, step.stepId), attempts: step.maxAttempts },
    );
    if (result.created) created += 1;
  }
  return created;
}
