import type { Breaker } from './breaker';

/** A {@link Breaker} that opens after `threshold` failures in a row; any success resets it. */
export function consecutiveBreaker(threshold: number): Breaker {
  if (!(Number.isInteger(threshold) && threshold >= 1))
    throw new RangeError(`threshold must be an integer >= 1, got ${threshold}`);
  let failures = 0;
  return {
    success: () => {
      failures = 0;
    },
    failure: () => ++failures >= threshold,
    reset: () => {
      failures = 0;
    },
  };
}
