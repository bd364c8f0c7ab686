/**
 * How one delivery of a job ended, as seen by the worker that ran it:
 * - `completed`: the handler returned; its result is the job's return value.
 * - `retried`: the handler failed with a retryable error and attempts remain (BullMQ backs off).
 * - `dead_lettered`: the job failed for good (fatal error, retries exhausted, stalled out) and was captured.
 * - `invalid`: unknown job name or a payload that does not parse; dead-lettered without running a handler.
 * - `failed`: the job failed for good but the dead-letter capture itself failed; the job is left
 *   for redelivery so the capture is retried (see `createWorkerRuntime`).
 * - `cancelled`: shutdown cancelled the job; it went back to wait without using an attempt.
 * - `postponed`: the database was unavailable; the job went back to the delayed set without
 *   using an attempt.
 * - `skipped`: reserved for the app (this package does not emit it).
 */
export type JobOutcome =
  | 'completed'
  | 'failed'
  | 'retried'
  | 'dead_lettered'
  | 'invalid'
  | 'skipped'
  | 'cancelled'
  | 'postponed';

export interface JobFinishedEvent {
  queue: string;
  /** BullMQ job name (the catalog's `name`), or the raw name of an unknown job. */
  job: string;
  outcome: JobOutcome;
  /** Time the handler ran; 0 when no handler ran (invalid payload, stalled out). */
  durationMs: number;
  /** 1-based number of the attempt that just ended. */
  attempts: number;
}

/**
 * Events out of the worker runtime, for the app to wire to prom-client. Every method is optional
 * and is called synchronously; an observer that throws is caught and logged, never breaks a job.
 */
export interface QueueObserver {
  jobFinished?(e: JobFinishedEvent): void;
  deadLettered?(e: { queue: string; code: string }): void;
  drained?(e: { durationMs: number; cancelled: number }): void;
}
