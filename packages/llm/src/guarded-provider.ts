import { AsyncLocalStorage } from 'node:async_hooks';
import {
  circuitBreaker,
  isProgrammerError,
  isTransientFault,
  retry,
  retryBudget,
  samplingBreaker,
  timeout,
  wrap,
  type BackoffOptions,
  type CircuitState,
  type Clock,
  type GiveUpReason,
  type Sleep,
} from '@agentry/resilience';
import { AppError, amendAppError, toAppError, toError, type ErrorCode } from '@agentry/schema';
import type { Completion, CompletionRequest, LlmProvider } from './provider';

/** The policies around one provider. Defaults: {@link defaultLlmPolicy}. */
export interface LlmPolicyOptions {
  /** Hard deadline of one attempt, body included; the socket is closed when it passes. */
  attemptTimeoutMs: number;
  /** Calls per request, the first included. */
  maxAttempts: number;
  /** Full-jitter exponential backoff; `maxMs` is also the longest `Retry-After` honoured. */
  backoff: BackoffOptions;
  breaker: {
    /** Failure share over the window that opens the circuit, in (0, 1]. */
    threshold: number;
    windowMs: number;
    /** Fewest calls in the window before it may open. */
    minCalls: number;
    halfOpenAfterMs: number;
    halfOpenProbes: number;
  };
  /** Retry throttle shared by every request to this provider (gRPC-style token bucket). */
  retryBudget: { maxTokens: number; tokenRatio: number };
}

export const defaultLlmPolicy: LlmPolicyOptions = {
  attemptTimeoutMs: 30_000,
  maxAttempts: 3,
  backoff: { initialMs: 500, maxMs: 8_000 },
  breaker: {
    threshold: 0.5,
    windowMs: 60_000,
    minCalls: 5,
    halfOpenAfterMs: 30_000,
    halfOpenProbes: 1,
  },
  retryBudget: { maxTokens: 10, tokenRatio: 0.1 },
};

/** What the policies around a provider did; ids-free, so a listener adds the run's context. */
export type LlmEvent =
  | {
      type: 'retry';
      provider: string;
      model: string;
      attempt: number;
      delayMs: number;
      code: ErrorCode;
    }
  | {
      type: 'give-up';
      provider: string;
      model: string;
      attempts: number;
      code: ErrorCode;
      reason: GiveUpReason;
    }
  | { type: 'timeout'; provider: string; model: string; timeoutMs: number }
  | { type: 'breaker'; provider: string; model: string; from: CircuitState; to: CircuitState };

export type LlmEventListener = (event: LlmEvent) => void;

/** A provider behind retry, circuit breaker and timeout. */
export interface GuardedProvider extends LlmProvider {
  /** The circuit's state now. */
  readonly breakerState: CircuitState;
  /**
   * `complete` under the policies. `observe` hears this request's events — its retries, and the
   * breaker transitions its outcomes caused — besides the listener given at construction.
   */
  complete(
    request: CompletionRequest,
    signal?: AbortSignal,
    observe?: LlmEventListener,
  ): Promise<Completion>;
}

/** Test seams of {@link guardProvider}. */
export interface GuardSeams {
  clock?: Clock;
  random?: () => number;
  sleep?: Sleep;
}

/**
 * Put `provider` behind `retry(budget) → circuitBreaker → timeout`: each attempt is cut off at
 * `attemptTimeoutMs` (a timeout counts as a failure), failures open the circuit — an answer the
 * request's `acceptAnswer` refuses counts as one, and is not retried — and while it is
 * open a request fails at once with `UNAVAILABLE` and never reaches the provider. The retry
 * honours `Retry-After` up to `backoff.maxMs` and gives up sooner when the circuit will stay open
 * longer than that — then the error carries `details.deferred: true`. The circuit and the retry
 * budget are shared by every request through the returned provider, so create one per provider
 * and process. Rejects with an `AppError`; a programmer error becomes a non-retryable
 * `INTERNAL`.
 */
export function guardProvider(
  provider: LlmProvider,
  policy: LlmPolicyOptions = defaultLlmPolicy,
  onEvent: LlmEventListener = () => {},
  seams: GuardSeams = {},
): GuardedProvider {
  const labels = { provider: provider.name, model: provider.model };
  const budget = retryBudget(policy.retryBudget);
  // Errors a request's `acceptAnswer` threw: the provider answered, unusably.
  const unusable = new WeakSet<Error>();
  const breaker = circuitBreaker({
    halfOpenAfterMs: policy.breaker.halfOpenAfterMs,
    halfOpenProbes: policy.breaker.halfOpenProbes,
    breaker: samplingBreaker(policy.breaker),
    handleWhen: (error) => unusable.has(error) || isTransientFault(error),
    ...(seams.clock ? { clock: seams.clock } : {}),
  });
  const deadline = timeout(policy.attemptTimeoutMs, { strategy: 'aggressive' });
  // Breaker transitions and timeouts happen inside one request's async context: tell that
  // request's observer too.
  const current = new AsyncLocalStorage<LlmEventListener>();
  const emit = (event: LlmEvent, observe?: LlmEventListener): void => {
    onEvent(event);
    observe?.(event);
  };
  breaker.onStateChange(({ from, to }) => {
    emit({ type: 'breaker', ...labels, from, to }, current.getStore());
  });
  deadline.onTimeout(({ timeoutMs }) => {
    emit({ type: 'timeout', ...labels, timeoutMs }, current.getStore());
  });

  return {
    name: provider.name,
    model: provider.model,
    get breakerState() {
      return breaker.state;
    },
    async complete(request, signal, observe) {
      const retries = retry({
        maxAttempts: policy.maxAttempts,
        backoff: policy.backoff,
        budget,
        // An unusable answer is the caller's to repair (with the answer in hand), never retried.
        handleWhen: (error) => !unusable.has(error),
        ...(seams.random ? { random: seams.random } : {}),
        ...(seams.sleep ? { sleep: seams.sleep } : {}),
      });
      retries.onRetry(({ attempt, delayMs, error }) => {
        emit({ type: 'retry', ...labels, attempt, delayMs, code: toAppError(error).code }, observe);
      });
      let deferred = false;
      retries.onGiveUp(({ attempts, error, reason }) => {
        deferred = reason === 'retry-after';
        if (reason === 'not-handled' && attempts === 1) return;
        emit(
          { type: 'give-up', ...labels, attempts, code: toAppError(error).code, reason },
          observe,
        );
      });
      try {
        return await current.run(
          observe ?? (() => {}),
          () =>
            // No fallback in this chain, so the only value is the provider's.
            wrap(retries, breaker, deadline).execute(async (ctx) => {
              const answer = await provider.complete(request, ctx.signal);
              judge(request, answer, unusable);
              return answer;
            }, signal) as Promise<Completion>,
        );
      } catch (caught) {
        if (isProgrammerError(caught)) {
          throw new AppError('INTERNAL', `${provider.name}: ${toError(caught).message}`, {
            cause: toError(caught),
            retryable: false,
          });
        }
        const error = toAppError(caught, 'TRANSIENT');
        // The server (or the circuit) asked for a wait longer than this policy makes: say so, so
        // a slower outer layer (a step's backoff) may still honour it.
        throw deferred ? amendAppError(error, { details: { deferred: true } }) : error;
      }
    },
  };
}

/** Run the request's `acceptAnswer`; what it throws is remembered as an unusable answer. */
function judge(request: CompletionRequest, answer: Completion, unusable: WeakSet<Error>): void {
  if (request.acceptAnswer === undefined) return;
  try {
    request.acceptAnswer(answer);
  } catch (caught) {
    const error = toError(caught);
    unusable.add(error);
    throw error;
  }
}
