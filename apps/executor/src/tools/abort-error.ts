import { AppError, isAppError, toError } from '@agentry/schema';

/**
 * The AppError for an aborted signal: `TIMEOUT` when the signal's reason is a `TimeoutError`
 * (what `AbortSignal.timeout()` uses) or already a `TIMEOUT` AppError, otherwise `CANCELLED`.
 * Call it only once `signal.aborted` is true. Never throws.
 */
export function abortError(signal: AbortSignal): AppError {
  const reason = toError(signal.reason ?? new Error('aborted'));
  if (isAppError(reason) && (reason.code === 'TIMEOUT' || reason.code === 'CANCELLED'))
    return reason;
  if (reason.name === 'TimeoutError') {
    return new AppError('TIMEOUT', `timed out: ${reason.message}`, { cause: reason });
  }
  return new AppError('CANCELLED', `cancelled: ${reason.message}`, { cause: reason });
}

/**
 * Settles like `promise`, or rejects with {@link abortError} as soon as `signal` aborts —
 * whichever comes first. The work behind `promise` is not stopped; it is only no longer awaited.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined); // the late outcome is not wanted; keep it from going unhandled
    return Promise.reject(abortError(signal));
  }
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() => {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  });
}
