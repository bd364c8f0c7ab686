import type { Breaker } from './breaker';

/** Options of {@link samplingBreaker}. */
export interface SamplingBreakerOptions {
  /** Failure ratio in `(0, 1]` at which the circuit opens (0.5 = half the calls failed). */
  threshold: number;
  /** Length of the sliding window, in ms. */
  windowMs: number;
  /** Fewest calls in the window before the ratio may open the circuit (avoids 1-of-1 = 100%). */
  minCalls: number;
}

/** Sub-windows the sliding window is kept in: memory is O(1) whatever the call rate. */
const BUCKETS = 10;

interface Bucket {
  start: number;
  successes: number;
  failures: number;
}

/**
 * A {@link Breaker} that opens when, over the last `windowMs`, at least `minCalls` calls were made
 * and the failed share reached `threshold`. The window slides in steps of `windowMs / 10`: a call
 * is never counted once it is more than `windowMs` old, and may be dropped up to one step early.
 */
export function samplingBreaker(options: SamplingBreakerOptions): Breaker {
  const { threshold, windowMs, minCalls } = options;
  if (!(threshold > 0 && threshold <= 1))
    throw new RangeError(`threshold must be in (0, 1], got ${threshold}`);
  if (!(Number.isFinite(windowMs) && windowMs > 0))
    throw new RangeError(`windowMs must be a finite number > 0, got ${windowMs}`);
  if (!(Number.isInteger(minCalls) && minCalls >= 1))
    throw new RangeError(`minCalls must be an integer >= 1, got ${minCalls}`);
  const bucketMs = windowMs / BUCKETS;
  let buckets: Bucket[] = [];

  const record = (now: number, failed: boolean): void => {
    buckets = buckets.filter((b) => b.start + windowMs > now);
    let last = buckets.at(-1);
    if (last === undefined || now >= last.start + bucketMs) {
      last = { start: now, successes: 0, failures: 0 };
      buckets.push(last);
    }
    if (failed) last.failures++;
    else last.successes++;
  };

  return {
    success: (now) => record(now, false),
    failure: (now) => {
      record(now, true);
      let calls = 0;
      let failures = 0;
      for (const b of buckets) {
        calls += b.successes + b.failures;
        failures += b.failures;
      }
      return calls >= minCalls && failures / calls >= threshold;
    },
    reset: () => {
      buckets = [];
    },
  };
}
