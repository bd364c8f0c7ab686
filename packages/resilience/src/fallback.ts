import { toError } from '@agentry/schema';
import { EventEmitter, type Event } from './events';
import type { Policy } from './policy';
import { neverAborted } from './sleep';

/** A fallback value, or a function of the error that makes one (functions are always called). */
export type FallbackValue<R> = R | ((error: Error) => R | PromiseLike<R>);

/** A fallback policy (see {@link fallback}). */
export interface FallbackPolicy<R> extends Policy<{ signal: AbortSignal }, R> {
  /** The function failed with `error` and the fallback is used instead. */
  readonly onFallback: Event<{ error: Error }>;
}

/**
 * Resolve with a substitute when the function fails with an error `handleWhen` accepts.
 * Contract: other errors, and any error once the caller's signal has aborted (a cancelled call
 * is not a failure to paper over), are rethrown as they are (coerced to `Error`). If the
 * fallback function throws, `execute` rejects with that.
 */
export function fallback<R>(
  handleWhen: (error: Error) => boolean,
  valueOrFn: FallbackValue<R>,
): FallbackPolicy<R> {
  const used = new EventEmitter<{ error: Error }>();
  return {
    onFallback: used.event,
    async execute(fn, signal = neverAborted) {
      try {
        return await fn({ signal });
      } catch (caught) {
        const error = toError(caught);
        if (signal.aborted || !handleWhen(error)) throw error;
        used.emit({ error });
        return typeof valueOrFn === 'function'
          ? await (valueOrFn as (error: Error) => R | PromiseLike<R>)(error)
          : valueOrFn;
      }
    },
  };
}
