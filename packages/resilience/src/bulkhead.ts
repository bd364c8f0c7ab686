import { BulkheadRejectedError } from './bulkhead-rejected-error';
import { EventEmitter, type Event } from './events';
import type { Policy } from './policy';
import { abortReason, neverAborted } from './sleep';

/** Options of {@link bulkhead}. */
export interface BulkheadOptions {
  /** Most calls running at once. */
  maxConcurrent: number;
  /** Most calls waiting for a slot. @default 0 */
  maxQueued?: number;
}

/** A bulkhead policy (see {@link bulkhead}). */
export interface BulkheadPolicy extends Policy {
  /** Calls running now. */
  readonly active: number;
  /** Calls waiting now. */
  readonly queued: number;
  /** A call was rejected because running and queue slots were all taken. */
  readonly onReject: Event<void>;
}

interface Waiter {
  signal: AbortSignal;
  resolve: () => void;
  onAbort: () => void;
}

/**
 * Bound concurrency. Contract: at most `maxConcurrent` calls run; up to `maxQueued` more wait in
 * FIFO order; any further call rejects at once with a {@link BulkheadRejectedError}
 * (`RATE_LIMITED`) without calling the function. A waiting call whose signal aborts leaves the
 * queue at once and rejects with the abort reason.
 */
export function bulkhead(options: BulkheadOptions): BulkheadPolicy {
  const { maxConcurrent, maxQueued = 0 } = options;
  if (!(Number.isInteger(maxConcurrent) && maxConcurrent >= 1))
    throw new RangeError(`maxConcurrent must be an integer >= 1, got ${maxConcurrent}`);
  if (!(Number.isInteger(maxQueued) && maxQueued >= 0))
    throw new RangeError(`maxQueued must be an integer >= 0, got ${maxQueued}`);
  const rejected = new EventEmitter<void>();
  const queue: Waiter[] = [];
  let active = 0;

  const acquire = (signal: AbortSignal): Promise<void> | undefined => {
    if (active < maxConcurrent) {
      active++;
      return undefined;
    }
    if (queue.length >= maxQueued) {
      rejected.emit();
      throw new BulkheadRejectedError(maxConcurrent, maxQueued);
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        signal,
        resolve,
        onAbort: () => {
          queue.splice(queue.indexOf(waiter), 1);
          reject(abortReason(signal));
        },
      };
      queue.push(waiter);
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    });
  };

  const release = (): void => {
    const next = queue.shift();
    if (next === undefined) {
      active--;
      return;
    }
    // The slot passes straight to the next waiter: `active` is unchanged.
    next.signal.removeEventListener('abort', next.onAbort);
    next.resolve();
  };

  return {
    get active() {
      return active;
    },
    get queued() {
      return queue.length;
    },
    onReject: rejected.event,
    async execute(fn, signal = neverAborted) {
      if (signal.aborted) throw abortReason(signal);
      await acquire(signal);
      try {
        return await fn({ signal });
      } finally {
        release();
      }
    },
  };
}
