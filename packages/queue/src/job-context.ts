import type { JobKind, JobKindOn, JobPayload, QueueName } from '@agentry/schema';

import type { QueueLogger } from './queue-logger';

/** What a handler knows about the delivery it runs in. */
export interface JobContext {
  jobId: string;
  queue: string;
  /** BullMQ job name. */
  name: string;
  /** 1-based number of this attempt (a shutdown-cancelled run does not use one up). */
  attempt: number;
  maxAttempts: number;
  isFinalAttempt: boolean;
  /**
   * Aborted when the attempt times out (reason named `TimeoutError`), when shutdown cancels the
   * job (reason an AppError `CANCELLED` with `details.shutdown`), or when the job's lock is lost.
   * Honour it: pass it to every I/O call.
   */
  signal: AbortSignal;
  /** Child logger bound to jobId, queue, attempt and the payload's correlationId/runId/stepId. */
  log: QueueLogger;
  /** Name of the worker running the job. */
  worker: string;
  /**
   * This delivery lost its job to another one (e.g. Postgres says another worker re-claimed the
   * step after this worker's lock lapsed): returns the error to throw. The runtime then records
   * nothing in BullMQ — no completion, failure or hand-back — and leaves the job to its new
   * owner, as when a lock renewal fails.
   */
  superseded(reason: string): Error;
}

/** A job handler: its result becomes the job's return value; throw an AppError to fail. */
export type Handler<K extends JobKind> = (
  payload: JobPayload<K>,
  ctx: JobContext,
) => Promise<unknown>;

/** One handler per job kind on queue `Q`: a kind without a handler does not compile. */
export type HandlerMap<Q extends QueueName> = { [K in JobKindOn<Q>]: Handler<K> };
