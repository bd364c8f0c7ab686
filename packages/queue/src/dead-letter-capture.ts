import {
  type AppError,
  isAppError,
  jobIds,
  queueNames,
  runIdForPlanJob,
  toAppError,
  type ErrorCode,
  type JobKind,
  type JobPayloadInput,
} from '@agentry/schema';
import type { Job, Queue } from 'bullmq';
import type { DeadLetterEntry, DeadLetterStore, FailedForGood } from './dead-letter-store';
import { jobOptionsFor } from './job-options-for';
import { parseJobPayload } from './parse-job-payload';
import { failureLevel, type QueueLogger } from './queue-logger';
import type { QueueObserver } from './queue-observer';

/** The ids a payload carries, for log bindings and dead letters (only from a parsed payload). */
export interface PayloadIds {
  runId?: string;
  stepId?: string;
  correlationId?: string;
}

/** Pick runId/stepId/correlationId from a parsed payload; a plan job's run id is derived if absent. */
export function payloadIds(kind: JobKind, jobId: string, payload: unknown): PayloadIds {
  const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<
    string,
    unknown
  >;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const runId = kind === 'plan' ? runIdForPlanJob(jobId, str(p.runId)) : str(p.runId);
  const ids: PayloadIds = {};
  if (runId !== undefined) ids.runId = runId;
  const stepId = str(p.stepId);
  if (stepId !== undefined) ids.stepId = stepId;
  const correlationId = str(p.correlationId);
  if (correlationId !== undefined) ids.correlationId = correlationId;
  return ids;
}

export interface FailureDeps {
  queue: string;
  store: DeadLetterStore;
  dlq: () => Queue;
  log: QueueLogger;
  observer: QueueObserver | undefined;
  onFailedForGood: ((f: FailedForGood) => Promise<void>) | undefined;
  /** How long the handler of this delivery ran (0 when none ran). */
  durationOf: (jobId: string) => number;
  clock: () => number;
}

const serialise = (e: Error): unknown =>
  isAppError(e) ? e.toJSON() : { name: e.name, message: e.message };

async function withRetries<T>(fn: () => Promise<T>, delaysMs: readonly number[]): Promise<T> {
  for (const delayMs of delaysMs) {
    try {
      return await fn();
    } catch {
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
  return fn();
}

/**
 * Handle one failed delivery (see `CapturingWorker`): a retryable failure with attempts left is
 * only reported; a failure for good is captured into the store, added to `agentry.dlq` as a
 * `dead-letter` job (id `jobIds.deadLetter(id)`), then handed to `onFailedForGood`.
 *
 * Final is decided as BullMQ does: an `UnrecoverableError`, or `attemptsMade + 1 >= attempts`.
 * All three steps are idempotent; if one still fails after short retries the error is rethrown,
 * BullMQ does not record the failure and the job is redelivered later (at-least-once capture).
 */
export function createFailureHandler(deps: FailureDeps): (err: Error, job: Job) => Promise<void> {
  const { queue, log } = deps;
  const safely = (what: string, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      log.warn({ err }, `observer ${what} threw`);
    }
  };

  return async (err, job) => {
    const jobId = job.id ?? '';
    const attempts = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? 1;
    const unrecoverable = err.name === 'UnrecoverableError';
    const durationMs = deps.durationOf(jobId);
    if (!unrecoverable && attempts < maxAttempts) {
      log[failureLevel(attempts, false)](
        { jobId, queue, attempt: attempts, maxAttempts, err },
        'job failed, will retry',
      );
      safely('jobFinished', () =>
        deps.observer?.jobFinished?.({
          queue,
          job: job.name,
          outcome: 'retried',
          durationMs,
          attempts,
        }),
      );
      return;
    }

    // The processor wraps the real error as the UnrecoverableError's cause; a deferred failure
    // (stalled out) has none and keeps BullMQ's message.
    const source = unrecoverable && err.cause !== undefined ? err.cause : err;
    const appError: AppError = isAppError(source) ? source : toAppError(source);
    const parsed = parseJobPayload(queue, job.name, job.data);
    const errorCode: ErrorCode = parsed.ok ? appError.code : 'VALIDATION';
    const reason = (isAppError(source) ? source.message : err.message).slice(0, 2_000);
    const ids = parsed.ok ? payloadIds(parsed.kind, jobId, parsed.payload) : {};
    const entry: DeadLetterEntry = {
      sourceQueue: queue,
      jobId,
      jobName: job.name,
      ...ids,
      reason,
      errorCode,
      error: serialise(appError),
      attempts,
      payload: job.data,
    };

    try {
      const { id, created } = await withRetries(() => deps.store.capture(entry), [200, 1_000]);
      if (queue !== queueNames.dlq) {
        const letter: JobPayloadInput<'deadLetter'> = {
          deadLetterId: id,
          sourceQueue: queue,
          jobId,
          jobName: job.name,
          reason,
          errorCode,
          attempts,
          failedAt: new Date(deps.clock()).toISOString(),
          ...ids,
        };
        const dlqId = jobIds.deadLetter(id);
        await withRetries(
          () => deps.dlq().add('dead-letter', letter, jobOptionsFor('deadLetter', dlqId)),
          [200, 1_000],
        );
      }
      await deps.onFailedForGood?.({
        kind: parsed.kind,
        // The parser paired kind and payload; the union cannot see that through `ParsedJobPayload`.
        payload: (parsed.ok ? parsed.payload : undefined) as never,
        rawPayload: job.data,
        error: appError,
        errorCode,
        attempts,
        jobId,
        deadLetterId: id,
      });
      log.error(
        { jobId, queue, attempt: attempts, errorCode, deadLetterId: id, created, ...ids, reason },
        'job dead-lettered',
      );
      const outcome = parsed.ok ? 'dead_lettered' : 'invalid';
      safely('jobFinished', () =>
        deps.observer?.jobFinished?.({ queue, job: job.name, outcome, durationMs, attempts }),
      );
      safely('deadLettered', () => deps.observer?.deadLettered?.({ queue, code: errorCode }));
    } catch (captureError) {
      log.error(
        { jobId, queue, err: captureError, reason },
        'dead-letter capture failed; the job will be redelivered',
      );
      safely('jobFinished', () =>
        deps.observer?.jobFinished?.({
          queue,
          job: job.name,
          outcome: 'failed',
          durationMs,
          attempts,
        }),
      );
      throw captureError;
    }
  };
}
