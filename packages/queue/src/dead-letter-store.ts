import type { ErrorCode, JobKind, JobPayload } from '@agentry/schema';

/** What the worker runtime records about a job that failed for good. Secret-free by contract. */
export interface DeadLetterEntry {
  sourceQueue: string;
  jobId: string;
  /** BullMQ job name as found on the job (may be unknown to the catalog). */
  jobName: string;
  runId?: string;
  stepId?: string;
  correlationId?: string;
  /** Readable cause, e.g. `invalid payload: intent.text: Invalid input: expected string`. */
  reason: string;
  errorCode: ErrorCode;
  /** The serialised error (AppError JSON or `{ name, message }`). */
  error?: unknown;
  /** Attempts made, this last one included. */
  attempts: number;
  /** The job's data exactly as it was on the queue (even when it did not parse). */
  payload: unknown;
}

/**
 * Durable home of dead letters; the app implements it with the database.
 *
 * Contract: `capture` is idempotent per `(sourceQueue, jobId)` while the dead letter is not
 * replayed — a repeated capture of the same failure returns the same `id` with `created: false`.
 * The runtime captures at least once (it may capture again after a crash), so this is what keeps
 * one failure one dead letter. After a replay, a new failure of the same job is a new dead letter.
 * Throwing means "not stored": the job is left active so it is redelivered and captured later.
 */
export interface DeadLetterStore {
  capture(entry: DeadLetterEntry): Promise<{ id: string; created: boolean }>;
}

/** Facts about a job that failed for good, whatever its kind. */
export interface FailureFacts {
  rawPayload: unknown;
  error: Error;
  errorCode: ErrorCode;
  attempts: number;
  jobId: string;
  deadLetterId: string;
}

/**
 * Passed to `hooks.onFailedForGood` after the dead letter is stored, so the app can fail the run.
 * Narrow on `kind` to get a typed `payload`; `payload` is undefined when the data did not parse,
 * and `kind` is undefined for a job name the catalog does not know.
 */
export type FailedForGood<K extends JobKind = JobKind> = FailureFacts &
  (
    | { [P in K]: { kind: P; payload: JobPayload<P> | undefined } }[K]
    | { kind: undefined; payload: undefined }
  );
