/**
 * Waits `ms` milliseconds. Pass your own to a policy to control time in tests.
 * Must reject with `signal.reason` as soon as `signal` aborts (including when already aborted).
 */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** The default {@link Sleep} over `setTimeout`; rejects at once with the abort reason. */
export const sleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** The reason an aborted signal carries (Node always sets one; guard for foreign signals). */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** A signal that never aborts: the default when the caller passes none. */
export const neverAborted: AbortSignal = new AbortController().signal;
