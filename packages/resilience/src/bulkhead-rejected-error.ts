import { AppError } from '@agentry/schema';

const marker = '__agentryBulkheadRejected' as const;

/**
 * What a full {@link bulkhead} rejects with: an `AppError` with code `RATE_LIMITED` — we are
 * shedding our own load, the dependency is not known to be down (that would be `UNAVAILABLE`), and
 * a caller may come back later.
 */
export class BulkheadRejectedError extends AppError {
  readonly [marker] = true;

  constructor(maxConcurrent: number, maxQueued: number) {
    super('RATE_LIMITED', `bulkhead is full (${maxConcurrent} running, ${maxQueued} queued)`, {
      details: { maxConcurrent, maxQueued },
    });
    this.name = 'BulkheadRejectedError';
  }
}

/** True for a {@link BulkheadRejectedError}, even from another copy of this package. */
export function isBulkheadRejectedError(value: unknown): value is BulkheadRejectedError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<string, unknown>)[marker] === true
  );
}
