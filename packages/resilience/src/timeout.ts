import { AppError } from '@agentry/schema';
import { EventEmitter, type Event } from './events';
import type { Policy } from './policy';
import { abortReason, neverAborted } from './sleep';

/**
 * `cooperative`: at the deadline the function's signal aborts and the policy waits for the
 * function to settle (it must honour the signal). `aggressive`: the policy also rejects at once
 * (a hard deadline); the abandoned function's eventual outcome is dropped.
 */
export type TimeoutStrategy = 'cooperative' | 'aggressive';

/** Options of {@link timeout}. */
export interface TimeoutOptions {
  /** @default 'cooperative' */
  strategy?: TimeoutStrategy;
}

/** A timeout policy (see {@link timeout}). */
export interface TimeoutPolicy extends Policy {
  /** The deadline passed; the function's signal has been aborted. */
  readonly onTimeout: Event<{ timeoutMs: number }>;
}

/**
 * Bound one call in time.
 *
 * Contract: the function gets a signal that aborts when the caller's does or `ms` after the
 * call starts, with an `AppError('TIMEOUT')` as reason. A call that rejects after the deadline
 * rejects with that `AppError('TIMEOUT')` (the function's own error, if different, as `cause`),
 * so a circuit breaker around it counts it as a failure. A cooperative call that still resolves
 * after the deadline resolves with its value (the work is done). When the caller aborts, the
 * aggressive strategy rejects at once with the caller's reason; cooperative waits as above.
 */
export function timeout(ms: number, options: TimeoutOptions = {}): TimeoutPolicy {
  const { strategy = 'cooperative' } = options;
  if (!(Number.isFinite(ms) && ms >= 0))
    throw new RangeError(`timeout must be a finite number of ms >= 0, got ${ms}`);
  const timedOut = new EventEmitter<{ timeoutMs: number }>();

  return {
    onTimeout: timedOut.event,
    async execute(fn, signal = neverAborted) {
      if (signal.aborted) throw abortReason(signal);
      const controller = new AbortController();
      let timeoutError: AppError | undefined;
      let cut: (reason: unknown) => void = () => {};
      const hardStop = new Promise<never>((_, reject) => {
        cut = reject;
      });
      // Only the aggressive race listens to it; never let it count as unhandled.
      hardStop.catch(() => {});
      const onCallerAbort = () => {
        controller.abort(abortReason(signal));
        cut(abortReason(signal));
      };
      signal.addEventListener('abort', onCallerAbort, { once: true });
      const timer = setTimeout(() => {
        timeoutError = new AppError('TIMEOUT', `timed out after ${ms} ms`, {
          details: { timeoutMs: ms },
        });
        controller.abort(timeoutError);
        timedOut.emit({ timeoutMs: ms });
        cut(timeoutError);
      }, ms);

      const run = (async () => fn({ signal: controller.signal }))();
      try {
        if (strategy === 'cooperative') return await run;
        // Hazard: the abandoned run may reject later; observe it so it is not unhandled.
        run.catch(() => {});
        return await Promise.race([run, hardStop]);
      } catch (caught) {
        if (timeoutError === undefined || caught === timeoutError) throw caught;
        throw new AppError('TIMEOUT', timeoutError.message, {
          cause: caught,
          details: { timeoutMs: ms },
        });
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', onCallerAbort);
      }
    },
  };
}
