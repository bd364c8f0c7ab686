import { type AppError, toAppError } from '@agentry/schema';

/**
 * Run `fn` with a signal that aborts when `signal` does or `ms` after the start, and settle at
 * that moment even if `fn` ignores its signal (every remote call has a deadline). The deadline
 * rejects with `timeoutError()`; the caller's abort with its reason as an `AppError` (`CANCELLED`,
 * or `TIMEOUT` for a timeout signal). The timer is cleared when the call settles.
 *
 * Why not `AbortSignal.any([signal, AbortSignal.timeout(ms)])`: the same meaning, but that timer
 * outlives the call and fake timers cannot drive it in tests.
 */
export async function withDeadline<T>(
  ms: number,
  signal: AbortSignal | undefined,
  timeoutError: () => AppError,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (signal?.aborted === true) throw toAppError(signal.reason);
  const controller = new AbortController();
  let cut: (reason: AppError) => void = () => {};
  const stopped = new Promise<never>((_, reject) => {
    cut = (reason) => {
      controller.abort(reason);
      reject(reason);
    };
  });
  const onAbort = () => cut(toAppError(signal?.reason));
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => cut(timeoutError()), ms);
  try {
    const run = (async () => fn(controller.signal))();
    // Hazard: after the deadline nobody awaits the abandoned call; observe its rejection.
    run.catch(() => {});
    return await Promise.race([run, stopped]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
