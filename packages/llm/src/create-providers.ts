import { readFile } from 'node:fs/promises';
import { AppError, toError } from '@agentry/schema';
import { anthropicProvider } from './anthropic-provider';
import { guardProvider, type GuardedProvider, type LlmEventListener } from './guarded-provider';
import { envKeySource, type KeySource } from './key-source';
import { noApiKey, type LlmConfig, type ProviderEndpoint } from './llm-config';
import { openAiCompatibleProvider } from './openai-compatible-provider';
import { priceTable, type PriceTable } from './price-table';
import type { LlmProvider } from './provider';

/** Options of {@link createProviders}. */
export interface CreateProvidersOptions {
  /** Hears every provider's policy events (metrics). */
  onEvent?: LlmEventListener;
  /** Resolves the key references: the fleet's secret store. @default `envKeySource(env)` */
  keys?: KeySource;
  /** Where `env://` key references are read without `keys`. @default process.env */
  env?: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

/**
 * The configured providers, in the order tried, each behind its own circuit breaker and retry
 * budget (see `guardProvider`). Names are the provider kinds, numbered when a kind repeats, so
 * metric labels stay distinct. Throws `AppError('VALIDATION')` for a bad key reference.
 */
export function createProviders(
  config: LlmConfig,
  options: CreateProvidersOptions = {},
): GuardedProvider[] {
  const seen = new Map<string, number>();
  return config.providers.map((endpoint) => {
    const count = (seen.get(endpoint.kind) ?? 0) + 1;
    seen.set(endpoint.kind, count);
    const name = count === 1 ? endpoint.kind : `${endpoint.kind}-${count}`;
    return guardProvider(
      withKeyRefresh(baseProvider(endpoint, name, config, options), endpoint, options),
      config.policy,
      options.onEvent,
    );
  });
}

/**
 * `provider` whose rejected key is reloaded once (a rotated key is picked up without a restart):
 * each attempt runs inside `keys.withSecret`, below the guard's retry.
 */
function withKeyRefresh(
  provider: LlmProvider,
  endpoint: ProviderEndpoint,
  options: CreateProvidersOptions,
): LlmProvider {
  const keys = options.keys;
  if (keys === undefined || endpoint.apiKeyRef === noApiKey) return provider;
  return {
    name: provider.name,
    model: provider.model,
    complete: (request, signal) =>
      keys.withSecret(endpoint.apiKeyRef, () => provider.complete(request, signal)),
  };
}

function baseProvider(
  endpoint: ProviderEndpoint,
  name: string,
  config: LlmConfig,
  options: CreateProvidersOptions,
): LlmProvider {
  const keys = options.keys ?? envKeySource(options.env);
  const common = {
    name,
    model: endpoint.model,
    apiKey: endpoint.apiKeyRef === noApiKey ? () => '' : () => keys.get(endpoint.apiKeyRef),
    // The guard's deadline is the one that counts; this one only backs it up.
    timeoutMs: config.policy.attemptTimeoutMs,
    maxTokens: config.maxOutputTokens,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
  if (endpoint.kind === 'anthropic') {
    return anthropicProvider({
      ...common,
      ...(endpoint.baseUrl === undefined ? {} : { baseUrl: endpoint.baseUrl }),
    });
  }
  return openAiCompatibleProvider({
    ...common,
    baseUrl: endpoint.baseUrl ?? 'https://api.openai.com/v1',
    ...(endpoint.azureApiVersion === undefined
      ? {}
      : { azure: { apiVersion: endpoint.azureApiVersion } }),
  });
}

/** The price table in `file` (JSON), or an empty one without a file. Throws `AppError('VALIDATION')`. */
export async function loadPriceTable(file: string | undefined): Promise<PriceTable> {
  if (file === undefined) return { models: {} };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new AppError('VALIDATION', `cannot read the price table ${file}: ${toError(e).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AppError('VALIDATION', `the price table ${file} is not JSON: ${toError(e).message}`);
  }
  return priceTable(json);
}
