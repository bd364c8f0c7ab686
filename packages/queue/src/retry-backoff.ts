import { fullJitterDelay, retryAfterMsOf } from '@agentry/resilience';
import type { BackoffStrategy, MinimalJob } from 'bullmq';

/**
 * The BullMQ backoff type of catalog jobs whose catalog backoff is `exponential`. BullMQ hands
 * every type it does not know to the worker's `settings.backoffStrategy`; jobs enqueued earlier
 * with the built-in `exponential` keep BullMQ's own strategy.
 */
export const jitteredBackoffType = 'agentry-jittered';

/** Options of {@link retryBackoff}. */
export interface RetryBackoffOptions {
  /** Cap of a jittered delay, in ms. @default 60000 */
  maxMs?: number;
  /** Longest `retryAfterMs` honoured, in ms; a longer one is cut to this. @default 900000 */
  maxRetryAfterMs?: number;
  /** Uniform in `[0, 1)`. @default Math.random */
  random?: () => number;
}

/** `initialMs` when a job carries no backoff delay. */
const defaultInitialMs = 1_000;

/**
 * The worker's BullMQ `settings.backoffStrategy`: the delay before retrying a job after its failed
 * attempt `attemptsMade` (1-based), in whole ms.
 *
 * - when the error is an AppError with `details.retryAfterMs` (a server's `Retry-After`, an open
 *   circuit's time to its probe), exactly that, capped at `maxRetryAfterMs`;
 * - otherwise full jitter: uniform in `[0, min(maxMs, delay × 2^(attemptsMade − 1)))`, `delay`
 *   being the job's `opts.backoff.delay` (the catalog's `delayMs`).
 *
 * Never throws; it is used for every backoff type BullMQ does not know, not only
 * {@link jitteredBackoffType}.
 */
export function retryBackoff(options: RetryBackoffOptions = {}): BackoffStrategy {
  const { maxMs = 60_000, maxRetryAfterMs = 15 * 60_000, random = Math.random } = options;
  return (attemptsMade, _type, err, job) => {
    const retryAfterMs = retryAfterMsOf(err);
    if (retryAfterMs !== undefined) return Math.round(Math.min(retryAfterMs, maxRetryAfterMs));
    const initialMs = Math.min(backoffDelayOf(job) ?? defaultInitialMs, maxMs);
    return Math.floor(fullJitterDelay({ initialMs, maxMs }, attemptsMade, random));
  };
}

function backoffDelayOf(job: MinimalJob | undefined): number | undefined {
  const backoff = job?.opts.backoff;
  const delay = typeof backoff === 'number' ? backoff : backoff?.delay;
  return delay !== undefined && Number.isFinite(delay) && delay >= 0 ? delay : undefined;
}
