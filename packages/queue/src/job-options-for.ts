import { jobCatalog, type JobKind } from '@agentry/schema';
import type { JobsOptions } from 'bullmq';
import { jitteredBackoffType } from './retry-backoff';

/** Completed jobs: kept a day (at most 10 000) so a repeated enqueue within a day is a no-op. */
export const completedRetention = { age: 24 * 60 * 60, count: 10_000 } as const;
/**
 * Failed jobs: kept 14 days for inspection and replay, at most the last 50,000 per queue, so a
 * steady failure rate cannot fill Redis (every one is also a dead letter in Postgres, kept longer;
 * a replay re-adds the job from there when Redis no longer has it).
 */
export const failedRetention = { age: 14 * 24 * 60 * 60, count: 50_000 } as const;

export interface JobOptionsOverrides {
  /** Overrides the catalog's attempts (e.g. a step's own `maxAttempts`). Must be ≥ 1. */
  attempts?: number;
  delayMs?: number;
  /** BullMQ priority: 1 is highest, up to 2 097 152; omit for FIFO. */
  priority?: number;
}

/**
 * BullMQ options for a catalog job: attempts, backoff, retention, the deterministic id. The
 * catalog's `exponential` backoff becomes {@link jitteredBackoffType} (full jitter, honours
 * `retryAfterMs`; see `retryBackoff`), so only workers built by `createWorkerRuntime` may take
 * these jobs.
 */
export function jobOptionsFor(
  kind: JobKind,
  jobId: string,
  overrides: JobOptionsOverrides = {},
): JobsOptions {
  const definition = jobCatalog[kind];
  return {
    jobId,
    attempts: overrides.attempts ?? definition.attempts,
    backoff: {
      type: definition.backoff.type === 'exponential' ? jitteredBackoffType : 'fixed',
      delay: definition.backoff.delayMs,
    },
    ...(overrides.delayMs !== undefined && overrides.delayMs > 0
      ? { delay: overrides.delayMs }
      : {}),
    ...(overrides.priority !== undefined ? { priority: overrides.priority } : {}),
    removeOnComplete: completedRetention,
    removeOnFail: failedRetention,
  };
}
