import { isAppError, toError } from '@agentry/schema';
import { assertBackoff, fullJitterDelay, type BackoffOptions } from './backoff';
import { isBrokenCircuitError } from './broken-circuit-error';
import { EventEmitter, type Event } from './events';
import { isTransientFault } from './faults';
import type { Policy, PolicyContext } from './policy';
import type { RetryBudget } from './retry-budget';
import { abortReason, neverAborted, sleep as defaultSleep, type Sleep } from './sleep';

/** The context a {@link retry} policy passes to the function. */
export interface RetryContext extends PolicyContext {
  /** 1 for the first call, 2 for the first retry, ... */
  attempt: number;
}

/** Options of {@link retry}. */
export interface RetryOptions {
  /** Most calls of the function in one `execute`, the first included (1 = no retry). */
  maxAttempts: number;
  /** Exponential backoff with full jitter between attempts. */
  backoff: BackoffOptions;
  /**
   * Narrows which errors are retried. It can only narrow: errors that {@link isTransientFault}
   * rejects (validation, plan, cancellation, programmer errors, `retryable: false`) are never
   * retried. @default every transient fault
   */
  handleWhen?: (error: Error) => boolean;
  /** Uniform in `[0, 1)`. @default Math.random */
  random?: () => number;
  /** How to wait between attempts. @default setTimeout-based {@link defaultSleep} */
  sleep?: Sleep;
  /** Shared retry throttle; when it runs low, failures are returned instead of retried. */
  budget?: RetryBudget;
}

/** Why a {@link retry} stopped without a success. */
export type GiveUpReason = 'not-handled' | 'attempts' | 'budget' | 'retry-after';

/** A retry policy (see {@link retry}). */
export interface RetryPolicy extends Policy<RetryContext> {
  /** Before each wait: the attempt that failed, the wait, and its error. */
  readonly onRetry: Event<{ attempt: number; delayMs: number; error: Error }>;
  /** When the policy rejects with the function's error. Not emitted when the caller aborts. */
  readonly onGiveUp: Event<{ attempts: number; error: Error; reason: GiveUpReason }>;
  /** When the function resolved, on attempt `attempts`. */
  readonly onSuccess: Event<{ attempts: number }>;
}

/**
 * Retry a function with capped exponential backoff and full jitter.
 *
 * Contract:
 * - calls the function at most `maxAttempts` times per `execute`;
 * - waits `random() * min(maxMs, initialMs * multiplier^(attempt-1))` after failed attempt
 *   `attempt`, unless the error is an `AppError` whose `details.retryAfterMs` is a number
 *   `>= 0`: then it waits exactly that long (the server knows when it will take us back), and if
 *   that is more than `backoff.maxMs` it gives up at once (`reason: 'retry-after'`) rather than
 *   come back early and pay for a call the server already said it would refuse;
 * - never retries an error {@link isTransientFault} rejects, nor one `handleWhen` rejects;
 * - with a `budget`, records every handled failure (except an open circuit's rejection, which
 *   never reached the dependency) and success, and retries only while `budget.canRetry()`;
 * - when `signal` aborts, stops at once (even mid-wait) and rejects with `signal.reason`;
 * - otherwise rejects with the last error, coerced to an `Error`.
 */
export function retry(options: RetryOptions): RetryPolicy {
  const { maxAttempts, backoff, handleWhen = () => true, random = Math.random } = options;
  const { sleep = defaultSleep, budget } = options;
  if (!(Number.isInteger(maxAttempts) && maxAttempts >= 1))
    throw new RangeError(`maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  assertBackoff(backoff);

  const retried = new EventEmitter<{ attempt: number; delayMs: number; error: Error }>();
  const gaveUp = new EventEmitter<{ attempts: number; error: Error; reason: GiveUpReason }>();
  const succeeded = new EventEmitter<{ attempts: number }>();

  const giveUp = (attempts: number, error: Error, reason: GiveUpReason): Error => {
    gaveUp.emit({ attempts, error, reason });
    return error;
  };

  return {
    onRetry: retried.event,
    onGiveUp: gaveUp.event,
    onSuccess: succeeded.event,
    async execute(fn, signal = neverAborted) {
      for (let attempt = 1; ; attempt++) {
        if (signal.aborted) throw abortReason(signal);
        try {
          const value = await fn({ attempt, signal });
          budget?.recordSuccess();
          succeeded.emit({ attempts: attempt });
          return value;
        } catch (caught) {
          const error = toError(caught);
          if (signal.aborted) throw abortReason(signal);
          if (!isTransientFault(error) || !handleWhen(error))
            throw giveUp(attempt, error, 'not-handled');
          // An open circuit's rejection never reached the dependency: it says nothing about its
          // health, and counting it would keep retries throttled long after a recovery.
          if (!isBrokenCircuitError(error)) budget?.recordFailure();
          if (attempt >= maxAttempts) throw giveUp(attempt, error, 'attempts');
          if (budget && !budget.canRetry()) throw giveUp(attempt, error, 'budget');
          const retryAfterMs = retryAfterMsOf(error);
          if (retryAfterMs !== undefined && retryAfterMs > backoff.maxMs)
            throw giveUp(attempt, error, 'retry-after');
          const delayMs = retryAfterMs ?? fullJitterDelay(backoff, attempt, random);
          retried.emit({ attempt, delayMs, error });
          await sleep(delayMs, signal);
        }
      }
    },
  };
}

/** The wait a server asked for, carried as `AppError.details.retryAfterMs`. */
export function retryAfterMsOf(error: unknown): number | undefined {
  if (!isAppError(error)) return undefined;
  const value = error.details?.['retryAfterMs'];
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
