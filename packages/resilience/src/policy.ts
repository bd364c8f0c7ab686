/** What every policy hands to the function it runs. */
export interface PolicyContext {
  /**
   * Aborted when the caller aborts or a policy gives up on this call (e.g. a timeout). The
   * function must pass it on to its I/O (`fetch(url, { signal })`).
   */
  signal: AbortSignal;
}

/**
 * The shape every resilience policy shares (cockatiel's `IPolicy`).
 *
 * @typeParam C - the context the policy passes to the function.
 * @typeParam A - what the policy may resolve with instead of the function's value (a fallback).
 */
export interface Policy<C extends PolicyContext = PolicyContext, A = never> {
  /**
   * Run `fn` under the policy. An already-aborted `signal` rejects with its reason without
   * calling `fn`; otherwise the promise settles with `fn`'s value or the policy's error.
   */
  execute<T>(fn: (context: C) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T | A>;
}
