/** Exponential backoff settings. */
export interface BackoffOptions {
  /** Cap of the first retry's delay, in ms. */
  initialMs: number;
  /** Cap of any delay, in ms; also the longest `retryAfterMs` that is honoured. */
  maxMs: number;
  /** Growth factor of the cap per attempt. @default 2 */
  multiplier?: number;
}

/**
 * The upper bound of the delay after failed attempt `attempt` (1-based):
 * `min(maxMs, initialMs * multiplier^(attempt - 1))`. Never NaN, never above `maxMs`.
 */
export function backoffCap(backoff: BackoffOptions, attempt: number): number {
  if (backoff.initialMs === 0) return 0;
  const grown = backoff.initialMs * (backoff.multiplier ?? 2) ** (attempt - 1);
  return Math.min(backoff.maxMs, grown);
}

/**
 * "Full jitter" delay after failed attempt `attempt`: `random() * backoffCap(...)`, so it is
 * always within `[0, backoffCap)` given `random()` in `[0, 1)`. Spreads retries of many clients
 * evenly instead of in synchronised waves.
 */
export function fullJitterDelay(
  backoff: BackoffOptions,
  attempt: number,
  random: () => number,
): number {
  return random() * backoffCap(backoff, attempt);
}

/** Throws a `RangeError` for settings that cannot be a backoff. */
export function assertBackoff(backoff: BackoffOptions): void {
  const { initialMs, maxMs, multiplier = 2 } = backoff;
  if (!(Number.isFinite(initialMs) && initialMs >= 0))
    throw new RangeError(`backoff.initialMs must be a finite number >= 0, got ${initialMs}`);
  if (!(Number.isFinite(maxMs) && maxMs >= initialMs))
    throw new RangeError(`backoff.maxMs must be finite and >= initialMs, got ${maxMs}`);
  if (!(Number.isFinite(multiplier) && multiplier >= 1))
    throw new RangeError(`backoff.multiplier must be a finite number >= 1, got ${multiplier}`);
}
