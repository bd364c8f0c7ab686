import { AppError, toAppError } from '@agentry/schema';
import type { GuardedProvider, LlmEventListener } from './guarded-provider';
import { answeredCall, failedCall, type LlmCall } from './llm-call';
import type { PriceTable } from './price-table';
import type { Completion, CompletionRequest } from './provider';

export interface FailoverOptions {
  prices: PriceTable;
  signal?: AbortSignal;
  /** Hears the request's retries, timeouts and breaker transitions. */
  observe?: LlmEventListener;
  /** Each call as it ends, failed ones included. */
  onCall?: (call: LlmCall) => void;
  /**
   * Called before each provider is asked (a budget check): a rejection ends the failover at once
   * with that error, and no call is made.
   */
  beforeCall?: (provider: GuardedProvider) => Promise<void>;
  /** @default performance.now */
  monotonic?: () => number;
}

export interface FailoverResult {
  completion: Completion;
  /** The provider that answered. */
  provider: GuardedProvider;
  calls: LlmCall[];
}

/**
 * Ask each provider in turn (each behind its own retry, breaker and timeout) until one answers.
 * Rejects with the last provider's `AppError` when none does (its `details.skipped` lists every
 * provider's code), with the signal's reason as an `AppError` (`CANCELLED`, or `TIMEOUT` for a
 * step deadline) as soon as `signal` aborts, and with `VALIDATION` for an empty list. A provider's rejection of the request itself (`VALIDATION`) also moves on: the next
 * provider may accept it.
 */
export async function completeWithFailover(
  providers: readonly GuardedProvider[],
  request: CompletionRequest,
  options: FailoverOptions,
): Promise<FailoverResult> {
  const { prices, signal, observe, onCall } = options;
  const monotonic = options.monotonic ?? (() => performance.now());
  if (providers.length === 0) throw new AppError('VALIDATION', 'no model provider is configured');
  const calls: LlmCall[] = [];
  const record = (call: LlmCall): void => {
    calls.push(call);
    onCall?.(call);
  };
  const skipped: Array<{ provider: string; code: string }> = [];
  let last: AppError | undefined;
  for (const provider of providers) {
    await options.beforeCall?.(provider);
    const started = monotonic();
    try {
      const completion = await provider.complete(request, signal, observe);
      record(answeredCall(provider, completion, 'ok', prices));
      return { completion, provider, calls };
    } catch (caught) {
      const error = toAppError(caught, 'TRANSIENT');
      record(failedCall(provider, error, monotonic() - started));
      if (signal?.aborted) throw toAppError(signal.reason, 'CANCELLED');
      skipped.push({ provider: `${provider.name}:${provider.model}`, code: error.code });
      last = error;
    }
  }
  const error = last as AppError;
  throw new AppError(error.code, `no model provider answered: ${error.message}`, {
    cause: error,
    retryable: error.retryable,
    details: { ...error.details, skipped },
  });
}
