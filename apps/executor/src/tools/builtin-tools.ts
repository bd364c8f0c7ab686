import type { CircuitState } from '@agentry/resilience';
import { echoTool } from './echo-tool';
import { createHttpRequestTool } from './http-request-tool';
import { createLlmGenerateTool, type LlmGenerateToolOptions } from './llm-generate-tool';
import { createOriginCircuits, type OriginCircuitOptions } from './origin-circuits';
import type { ToolDefinition } from './tool';
import { createUrlGuard, type LookupAll } from './url-guard';
import { waitTool } from './wait-tool';
import { createWebhookNotifyTool, type WebhookSigner } from './webhook-notify-tool';

export interface BuiltinToolsOptions {
  /** Egress policy shared by http.request and webhook.notify (see `createUrlGuard`). */
  http: {
    allowHosts?: readonly string[];
    allowPrivate?: boolean;
    allowedPorts?: readonly number[];
  };
  /** Signs webhook bodies (e.g. `createHmacSigner(() => secrets.get('webhook-signing-key'))`). */
  sign?: WebhookSigner;
  /** DNS lookup override, for tests. @default dns.promises.lookup */
  lookup?: LookupAll;
  /**
   * The per-origin circuit breakers http.request and webhook.notify share (one set per call of
   * `builtinTools`, i.e. per executor process). @default see `OriginCircuitOptions`
   */
  breaker?: Omit<OriginCircuitOptions, 'onStateChange'>;
  /** Every transition of an origin's circuit, for logs or metrics. Must not throw. */
  onBreakerStateChange?: (origin: string, from: CircuitState, to: CircuitState) => void;
  /**
   * The model providers of `llm.generate`. @default none: the tool is listed (plans may name it)
   * and fails with a clear, non-retried error saying no model is configured.
   */
  llm?: LlmGenerateToolOptions;
}

const noModels: LlmGenerateToolOptions = {
  providers: [],
  prices: { models: {} },
  record: () => Promise.resolve(),
};

/**
 * The tools every executor ships: http.request, webhook.notify, llm.generate, wait, echo. Throws a plain
 * Error for a malformed allowlist entry and a `RangeError` for breaker settings out of range
 * (configuration mistakes).
 */
export function builtinTools(options: BuiltinToolsOptions): ToolDefinition[] {
  const guard = createUrlGuard({
    ...options.http,
    ...(options.lookup ? { lookup: options.lookup } : {}),
  });
  const circuits = createOriginCircuits({
    ...options.breaker,
    ...(options.onBreakerStateChange ? { onStateChange: options.onBreakerStateChange } : {}),
  });
  return [
    createHttpRequestTool({ guard, circuits }),
    createWebhookNotifyTool({ guard, circuits, ...(options.sign ? { sign: options.sign } : {}) }),
    createLlmGenerateTool(options.llm ?? noModels),
    waitTool,
    echoTool,
  ];
}
