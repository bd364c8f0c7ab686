import { dispositionOf, isAppError, toAppError } from '@agentry/schema';

/**
 * True for a bug rather than a fault of the world: a raw `TypeError`, `ReferenceError`,
 * `SyntaxError` or `RangeError`. No policy ever retries one.
 *
 * Hazard: undici's `fetch` reports network failures as `TypeError('fetch failed')`. Callers over
 * `fetch` must map those to `AppError('TRANSIENT')` (with the original as `cause`) to have them
 * retried.
 */
export function isProgrammerError(error: unknown): boolean {
  return (
    !isAppError(error) &&
    (error instanceof TypeError ||
      error instanceof ReferenceError ||
      error instanceof SyntaxError ||
      error instanceof RangeError)
  );
}

/**
 * True when another attempt may succeed: not a programmer error, and `dispositionOf` says
 * `retry` (an `AbortError` counts as `CANCELLED`, so it is fatal). The default `handleWhen` of
 * {@link retry} and of the circuit breaker's failure count. Never throws.
 */
export function isTransientFault(error: unknown): boolean {
  if (isProgrammerError(error)) return false;
  return dispositionOf(isAppError(error) ? error : toAppError(error)) === 'retry';
}
