import {
  answeredCall,
  type GuardedProvider,
  type PriceTable,
  type ProviderEndpoint,
} from '@agentry/llm';
import type { SpanAttributes, Tracing } from '@agentry/observability';

/** `gen_ai.provider.name` of the OpenTelemetry GenAI semantic conventions. */
function genAiProvider(endpoint: ProviderEndpoint): string {
  if (endpoint.kind === 'anthropic') return 'anthropic';
  return endpoint.azureApiVersion === undefined ? 'openai' : 'azure.ai.openai';
}

function serverOf(baseUrl: string | undefined): SpanAttributes {
  if (baseUrl === undefined) return {};
  const url = new URL(baseUrl);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return { 'server.address': url.hostname, 'server.port': port };
}

/**
 * `provider` with a client span per request (`chat <model>`, the GenAI semantic conventions:
 * provider, requested and answering model, tokens in and out, plus `agentry.llm.cost_usd`). The
 * span covers the guarded request — its retries are events on it, its breaker and timeout
 * outcomes its `error.type`. With tracing off `provider` is returned as it is.
 */
export function tracedProvider(
  provider: GuardedProvider,
  options: {
    endpoint: ProviderEndpoint;
    tracing: Tracing;
    prices: PriceTable;
    maxOutputTokens: number;
  },
): GuardedProvider {
  const { endpoint, tracing, prices } = options;
  if (!tracing.enabled) return provider;
  const fixed: SpanAttributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': genAiProvider(endpoint),
    // The attribute's name before semantic conventions 1.37; many backends still read it.
    'gen_ai.system': genAiProvider(endpoint),
    'gen_ai.request.model': provider.model,
    'gen_ai.request.max_tokens': options.maxOutputTokens,
    'agentry.llm.provider': provider.name,
    ...serverOf(endpoint.baseUrl),
  };
  return {
    name: provider.name,
    model: provider.model,
    get breakerState() {
      return provider.breakerState;
    },
    complete(request, signal, observe) {
      return tracing.inSpan(
        `chat ${provider.model}`,
        {
          kind: 'client',
          attributes: { ...fixed, 'agentry.llm.breaker_state': provider.breakerState },
        },
        async (span) => {
          const answer = await provider.complete(request, signal, (event) => {
            if (event.type === 'retry') {
              span.addEvent('retry', {
                'agentry.attempt': event.attempt,
                'agentry.retry.delay_ms': Math.round(event.delayMs),
                'error.type': event.code,
              });
            } else if (event.type === 'timeout') {
              span.addEvent('timeout', { 'agentry.timeout_ms': event.timeoutMs });
            } else if (event.type === 'breaker') {
              span.addEvent('breaker', {
                'agentry.breaker.from': event.from,
                'agentry.breaker.to': event.to,
              });
            }
            observe?.(event);
          });
          const call = answeredCall(provider, answer, 'ok', prices);
          span.setAttributes({
            'gen_ai.response.model': answer.model,
            'gen_ai.usage.input_tokens': answer.usage.inputTokens,
            'gen_ai.usage.output_tokens': answer.usage.outputTokens,
            'agentry.llm.cost_usd': call.costUsd,
            'agentry.llm.priced': call.priced,
          });
          return answer;
        },
      );
    },
  };
}
