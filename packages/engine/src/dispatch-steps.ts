import type { ReadyStep } from '@agentry/db';
import { AppError, jobIds } from '@agentry/schema';
import { traceFieldFor, type EngineDeps, type RunRef } from './engine-deps';
import { enqueueOwed } from './enqueue-owed';

/**
 * Enqueue step jobs for steps the database already marked `queued`. Job ids are deterministic,
 * so dispatching a step twice is a no-op (the count of jobs actually created is returned); call
 * it again after any crash between commit and enqueue. A finished job left under a step's id is
 * replaced ({@link enqueueOwed}). Pass `{ stepId, maxAttempts }` (what `complete`, `savePlan`,
 * `approve` and `queued` return) to enqueue without reading the step; a bare step id costs one
 * read of the step (`NOT_FOUND` when it does not exist).
 */
export async function dispatchSteps(
  deps: EngineDeps,
  run: RunRef,
  steps: ReadonlyArray<string | ReadyStep>,
): Promise<number> {
  const { id: runId, correlationId, tenantId } = run;
  let created = 0;
  for (const s of steps) {
    const step = typeof s === 'string' ? await deps.repos.steps.get(runId, s) : s;
    if (!step) throw new AppError('NOT_FOUND', `step ${String(s)} of run ${runId} does not exist`);
    const result = await enqueueOwed(
      deps.producer,
      'step',
      {
        runId,
        stepId: step.stepId,
        correlationId,
        ...(tenantId ? { tenantId } : {}),
        ...traceFieldFor(deps, runId),
      },
      { jobId: jobIds.step(runId, step.stepId), attempts: step.maxAttempts },
    );
    if (result.created) created += 1;
  }
  return created;
}
