import { AppError, isAppError, toError } from '@agentry/schema';

/** Options of {@link retryTransient}. */
export interface RetryTransientOptions {
  /** Most calls, the first included. @default 3 */
  attempts?: number;
  /** Cap of the first wait, in ms; doubles per attempt. @default 250 */
  initialMs?: number;
  /** Cap of any wait, in ms. @default 2000 */
  maxMs?: number;
  /** Uniform in `[0, 1)`. @default Math.random */
  random?: () => number;
  /** Aborts the waits (and is passed on to `fn`). */
  signal?: AbortSignal;
  /** Before each wait. */
  onRetry?: (event: { attempt: number; delayMs: number; error: Error }) => void;
}

/**
 * Call `fn` until it resolves, at most `attempts` times, waiting a full-jitter exponential
 * backoff (`random() × min(maxMs, initialMs × 2^(attempt-1))`) between calls. Only an `AppError`
 * marked `retryable` is retried; anything else, and the last failure, is thrown — the last one
 * with `(gave up after N attempts)` added to its message. An abort of `signal` ends the wait at
 * once with the signal's reason.
 *
 * `@agentry/resilience`'s `retry` has this contract; the CLI does not depend on that package.
 */
export async function retryTransient<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryTransientOptions = {},
): Promise<T> {
  const { attempts = 3, initialMs = 250, maxMs = 2_000, random = Math.random, signal } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (caught) {
      const error = toError(caught);
      if (signal?.aborted || !isAppError(error) || !error.retryable) throw error;
      if (attempt >= attempts) {
        throw new AppError(error.code, `${error.message} (gave up after ${attempt} attempts)`, {
          cause: error,
          details: error.details,
          retryable: false,
        });
      }
      const delayMs = Math.round(random() * Math.min(maxMs, initialMs * 2 ** (attempt - 1)));
      options.onRetry?.({ attempt, delayMs, error });
      await wait(delayMs, signal);
    }
  }
}

function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(toError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
