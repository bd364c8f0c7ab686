import type { Registry } from 'prom-client';
import {
  createProviders,
  loadPriceTable,
  type GuardedProvider,
  type KeySource,
  type LlmCall,
  type LlmConfig,
  type LlmEvent,
  type LlmEventListener,
  type PriceTable,
} from '@agentry/llm';
import { disabledTracing, LlmMetrics, type Tracing } from '@agentry/observability';
import { tracedProvider } from './traced-provider';

/** The logging surface the runtime needs: pino's, or the queue runtime's job logger. */
export interface LlmEventLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The configured model providers of a process, with their metrics and logs wired. */
export interface LlmRuntime {
  /** In the order tried; empty when no model is configured. */
  providers: GuardedProvider[];
  prices: PriceTable;
  /** Record a finished call in the metrics. */
  observeCall(call: LlmCall): void;
  /** Count a planner tried for a plan. */
  countHop(planner: string, outcome: 'planned' | 'skipped', code?: string): void;
  /** A listener that logs one request's retries, timeouts and breaker transitions on `log`. */
  logTo(log: LlmEventLog): LlmEventListener;
}

/**
 * Build the providers of `config` (keys resolved through `keys`: the secret store), wire their
 * policy events to `LlmMetrics` on `registry`, and give each request a span when `tracing` is on.
 * Logs are per request (`logTo(runLog)`), so every line carries the run's correlation id.
 */
export async function openLlmRuntime(
  config: LlmConfig,
  options: { registry: Registry; keys: KeySource; fetch?: typeof fetch; tracing?: Tracing },
): Promise<LlmRuntime> {
  const metrics = new LlmMetrics(options.registry);
  const onEvent = (event: LlmEvent): void => {
    if (event.type === 'retry') metrics.countRetry(event.provider, event.model, event.code);
    else if (event.type === 'timeout') metrics.countTimeout(event.provider, event.model);
    else if (event.type === 'breaker') metrics.breakerState(event.provider, event.model, event.to);
  };
  const prices = await loadPriceTable(config.pricesFile);
  const tracing = options.tracing ?? disabledTracing;
  const providers = createProviders(config, {
    onEvent,
    keys: options.keys,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  }).map((provider, i) =>
    tracedProvider(provider, {
      endpoint: config.providers[i] as LlmConfig['providers'][number],
      tracing,
      prices,
      maxOutputTokens: config.maxOutputTokens,
    }),
  );
  for (const p of providers) metrics.breakerState(p.name, p.model, 'CLOSED', false);
  return {
    providers,
    prices,
    observeCall: (call) => metrics.observeCall(call),
    countHop: (planner, outcome, code) => metrics.countHop(planner, outcome, code),
    logTo: (log) => (event) => logEvent(log, event),
  };
}

function logEvent(log: LlmEventLog, event: LlmEvent): void {
  const { provider, model } = event;
  switch (event.type) {
    case 'retry':
      log.warn(
        {
          provider,
          model,
          attempt: event.attempt,
          delayMs: Math.round(event.delayMs),
          code: event.code,
        },
        'model call failed; retrying',
      );
      return;
    case 'give-up':
      log.warn(
        { provider, model, attempts: event.attempts, code: event.code, reason: event.reason },
        'model call failed; no more retries',
      );
      return;
    case 'timeout':
      log.warn(
        { provider, model, timeoutMs: event.timeoutMs },
        'model call cut off at its deadline',
      );
      return;
    case 'breaker': {
      const fields = { provider, model, from: event.from, to: event.to };
      if (event.to === 'OPEN') log.error(fields, 'circuit opened: calls to this provider stop');
      else if (event.to === 'HALF_OPEN')
        log.info(fields, 'circuit half-open: probing the provider');
      else log.info(fields, 'circuit closed: the provider recovered');
      return;
    }
  }
}
