import type { Policy, PolicyContext } from './policy';
import { neverAborted } from './sleep';

type ContextOf<P> = P extends Policy<infer C, unknown> ? C : never;
type AltOf<P> = P extends Policy<PolicyContext, infer A> ? A : never;
type MergedContext<P extends readonly unknown[]> = P extends readonly [infer H, ...infer R]
  ? ContextOf<H> & MergedContext<R>
  : PolicyContext;

/**
 * Compose policies, the first outermost (cockatiel's `wrap`): `wrap(a, b).execute(fn)` is
 * `a.execute(() => b.execute(fn))`. Each policy receives the signal of the one outside it, and
 * `fn` receives every policy's context merged, with the innermost signal.
 *
 * Recommended order: `wrap(fallback, bulkhead, retry, circuitBreaker, timeout)`.
 * - `timeout` innermost: it bounds one attempt, and its `TIMEOUT` is seen by the breaker as a
 *   failure;
 * - `circuitBreaker` inside `retry`: every attempt is judged, and while OPEN an attempt is a cheap
 *   `BrokenCircuitError` whose `retryAfterMs` makes the retry wait for the half-open probe or give
 *   up at once — it never reaches the dependency;
 * - `bulkhead` outside `retry`: it bounds logical calls including all their retries, so retries
 *   cannot raise concurrency, and its own rejection (local overload) is neither retried nor
 *   counted against the dependency's health;
 * - `fallback` outermost: it sees the final outcome only.
 * Own each kind of fault's retries in exactly one layer: do not nest two `retry`s.
 */
export function wrap<const P extends readonly Policy<PolicyContext, unknown>[]>(
  ...policies: P
): Policy<MergedContext<P>, AltOf<P[number]>> {
  return {
    execute<T>(
      fn: (context: MergedContext<P>) => PromiseLike<T> | T,
      signal: AbortSignal = neverAborted,
    ): Promise<T | AltOf<P[number]>> {
      const run = async (index: number, context: PolicyContext): Promise<unknown> => {
        const policy = policies[index];
        if (policy === undefined) return fn(context as MergedContext<P>);
        return policy.execute((inner) => run(index + 1, { ...context, ...inner }), context.signal);
      };
      return run(0, { signal }) as Promise<T | AltOf<P[number]>>;
    },
  };
}
