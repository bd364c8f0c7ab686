import { AppError, env, envInt, envString } from '@agentry/schema';
import { parseSecretRef } from '@agentry/secrets';
import { z } from 'zod';
import { defaultLlmPolicy, type LlmPolicyOptions } from './guarded-provider';

const providerKind = z.enum(['none', 'openai', 'anthropic']);
export type ProviderKind = z.infer<typeof providerKind>;

const ratio = (fallback: number) => env(z.coerce.number().gt(0).max(1).default(fallback));

/**
 * The model providers' variables, read by every process that calls a model (planner, executor).
 * Apps extend their env schema with it; the README's configuration table documents each.
 */
export const llmEnv = z.object({
  /** none | openai | anthropic. `none`: plans come from templates only. `openai` covers every OpenAI-compatible API. */
  AGENTRY_LLM_PROVIDER: env(providerKind.default('none')),
  /** Model of the primary provider. */
  AGENTRY_LLM_MODEL: envString(),
  /** Base URL of the primary provider; unset → the vendor's public API. */
  AGENTRY_LLM_BASE_URL: env(z.url().optional()),
  /** Where the primary provider's API key comes from: a secret reference (`none`: no key). Never the key itself. */
  AGENTRY_LLM_API_KEY_REF: envString(),
  /** Azure OpenAI: the `api-version`; set it to send `api-key` instead of a bearer token. */
  AGENTRY_LLM_AZURE_API_VERSION: envString(),
  /** The secondary provider, tried when the primary cannot plan: none | openai | anthropic. */
  AGENTRY_LLM_FALLBACK_PROVIDER: env(providerKind.default('none')),
  AGENTRY_LLM_FALLBACK_MODEL: envString(),
  AGENTRY_LLM_FALLBACK_BASE_URL: env(z.url().optional()),
  AGENTRY_LLM_FALLBACK_API_KEY_REF: envString(),
  /** Azure OpenAI `api-version` of the secondary provider. */
  AGENTRY_LLM_FALLBACK_AZURE_API_VERSION: envString(),
  /** Hard deadline of one model call, body included. */
  AGENTRY_LLM_TIMEOUT_MS: envInt(defaultLlmPolicy.attemptTimeoutMs, { min: 100, max: 600_000 }),
  /** Calls per request to one provider, the first included (1 = no retry). */
  AGENTRY_LLM_MAX_ATTEMPTS: envInt(defaultLlmPolicy.maxAttempts, { min: 1, max: 10 }),
  /** First retry waits up to this (full jitter), doubling per retry. */
  AGENTRY_LLM_BACKOFF_INITIAL_MS: envInt(defaultLlmPolicy.backoff.initialMs, { max: 60_000 }),
  /** Longest wait between retries, and the longest Retry-After honoured (longer: next hop). */
  AGENTRY_LLM_BACKOFF_MAX_MS: envInt(defaultLlmPolicy.backoff.maxMs, { max: 300_000 }),
  /** Failure share over the window that opens a provider's circuit. */
  AGENTRY_LLM_BREAKER_THRESHOLD: ratio(defaultLlmPolicy.breaker.threshold),
  AGENTRY_LLM_BREAKER_WINDOW_MS: envInt(defaultLlmPolicy.breaker.windowMs, { min: 1_000 }),
  /** Fewest calls in the window before the circuit may open. */
  AGENTRY_LLM_BREAKER_MIN_CALLS: envInt(defaultLlmPolicy.breaker.minCalls, { min: 1 }),
  /** How long an open circuit rejects calls before one probe is let through. */
  AGENTRY_LLM_BREAKER_HALF_OPEN_AFTER_MS: envInt(defaultLlmPolicy.breaker.halfOpenAfterMs, {
    min: 100,
  }),
  AGENTRY_LLM_BREAKER_HALF_OPEN_PROBES: envInt(defaultLlmPolicy.breaker.halfOpenProbes, {
    min: 1,
    max: 100,
  }),
  /** Retry budget per provider: bucket size (retries stop below half of it). */
  AGENTRY_LLM_RETRY_BUDGET_TOKENS: envInt(defaultLlmPolicy.retryBudget.maxTokens, { min: 1 }),
  /** Retry budget: tokens a success puts back. */
  AGENTRY_LLM_RETRY_BUDGET_RATIO: ratio(defaultLlmPolicy.retryBudget.tokenRatio),
  /** Most tokens a model may answer with (Anthropic requires a bound; plans are small). */
  AGENTRY_LLM_MAX_OUTPUT_TOKENS: envInt(4_096, { min: 16, max: 200_000 }),
  /** JSON price table (USD per million tokens per model); see docs/resilience.md. */
  AGENTRY_LLM_PRICES_FILE: envString(),
});
export type LlmEnv = z.output<typeof llmEnv>;

/** Where one provider is and how to authenticate; the key itself is only a reference. */
export interface ProviderEndpoint {
  kind: Exclude<ProviderKind, 'none'>;
  model: string;
  baseUrl: string | undefined;
  /** A secret reference (`env://`, `aws://`, `vault://`, `file://`), or `none` for no key. */
  apiKeyRef: string;
  azureApiVersion?: string;
}

/** The model settings of a process: the chain of providers and the policies around each. */
export interface LlmConfig {
  /** In the order tried: primary, then secondary. Empty: no model is configured. */
  providers: ProviderEndpoint[];
  policy: LlmPolicyOptions;
  maxOutputTokens: number;
  pricesFile: string | undefined;
}

const defaultKeyRef: Record<ProviderEndpoint['kind'], string> = {
  openai: 'env://OPENAI_API_KEY',
  anthropic: 'env://ANTHROPIC_API_KEY',
};

/** Pure: the {@link LlmConfig} of parsed variables. Throws `AppError('VALIDATION')`. */
export function toLlmConfig(e: LlmEnv): LlmConfig {
  const providers: ProviderEndpoint[] = [];
  const add = (
    variable: string,
    kind: ProviderKind,
    model: string | undefined,
    baseUrl: string | undefined,
    keyRef: string | undefined,
    azureApiVersion: string | undefined,
  ) => {
    const prefix = variable.replace(/PROVIDER$/, '');
    if (kind === 'none') return;
    if (model === undefined) {
      throw new AppError('VALIDATION', `${variable}=${kind} needs a model: set ${prefix}MODEL`, {
        details: { variable },
      });
    }
    if (azureApiVersion !== undefined && kind !== 'openai') {
      throw new AppError(
        'VALIDATION',
        `${prefix}AZURE_API_VERSION applies to an openai provider only, not ${kind}`,
        { details: { variable: `${prefix}AZURE_API_VERSION` } },
      );
    }
    const apiKeyRef = keyRef ?? defaultKeyRef[kind];
    checkKeyRef(apiKeyRef, `${prefix}API_KEY_REF`);
    providers.push({
      kind,
      model,
      baseUrl,
      apiKeyRef,
      ...(azureApiVersion === undefined ? {} : { azureApiVersion }),
    });
  };
  add(
    'AGENTRY_LLM_PROVIDER',
    e.AGENTRY_LLM_PROVIDER,
    e.AGENTRY_LLM_MODEL,
    e.AGENTRY_LLM_BASE_URL,
    e.AGENTRY_LLM_API_KEY_REF,
    e.AGENTRY_LLM_AZURE_API_VERSION,
  );
  if (e.AGENTRY_LLM_FALLBACK_PROVIDER !== 'none' && providers.length === 0) {
    throw new AppError(
      'VALIDATION',
      'AGENTRY_LLM_FALLBACK_PROVIDER is set but AGENTRY_LLM_PROVIDER is none: set the primary first',
    );
  }
  add(
    'AGENTRY_LLM_FALLBACK_PROVIDER',
    e.AGENTRY_LLM_FALLBACK_PROVIDER,
    e.AGENTRY_LLM_FALLBACK_MODEL,
    e.AGENTRY_LLM_FALLBACK_BASE_URL,
    e.AGENTRY_LLM_FALLBACK_API_KEY_REF,
    e.AGENTRY_LLM_FALLBACK_AZURE_API_VERSION,
  );
  if (e.AGENTRY_LLM_BACKOFF_MAX_MS < e.AGENTRY_LLM_BACKOFF_INITIAL_MS) {
    throw new AppError(
      'VALIDATION',
      'AGENTRY_LLM_BACKOFF_MAX_MS must be at least AGENTRY_LLM_BACKOFF_INITIAL_MS',
    );
  }
  return {
    providers,
    policy: {
      attemptTimeoutMs: e.AGENTRY_LLM_TIMEOUT_MS,
      maxAttempts: e.AGENTRY_LLM_MAX_ATTEMPTS,
      backoff: { initialMs: e.AGENTRY_LLM_BACKOFF_INITIAL_MS, maxMs: e.AGENTRY_LLM_BACKOFF_MAX_MS },
      breaker: {
        threshold: e.AGENTRY_LLM_BREAKER_THRESHOLD,
        windowMs: e.AGENTRY_LLM_BREAKER_WINDOW_MS,
        minCalls: e.AGENTRY_LLM_BREAKER_MIN_CALLS,
        halfOpenAfterMs: e.AGENTRY_LLM_BREAKER_HALF_OPEN_AFTER_MS,
        halfOpenProbes: e.AGENTRY_LLM_BREAKER_HALF_OPEN_PROBES,
      },
      retryBudget: {
        maxTokens: e.AGENTRY_LLM_RETRY_BUDGET_TOKENS,
        tokenRatio: e.AGENTRY_LLM_RETRY_BUDGET_RATIO,
      },
    },
    maxOutputTokens: e.AGENTRY_LLM_MAX_OUTPUT_TOKENS,
    pricesFile: e.AGENTRY_LLM_PRICES_FILE,
  };
}

/** The reference of a provider that takes no key (a local Ollama or vLLM). */
export const noApiKey = 'none';

function checkKeyRef(ref: string, variable: string): void {
  if (ref === noApiKey) return;
  try {
    parseSecretRef(ref);
  } catch {
    // The value is not echoed: a key pasted here by mistake must not reach a log.
    throw new AppError(
      'VALIDATION',
      `${variable} must be a secret reference (env://, aws://, vault://, file://) or "none", never the key itself`,
      { details: { variable } },
    );
  }
}

/** The key references of the configured providers, by the variable that names each. */
export function keyRefsOf(config: LlmConfig): Record<string, string | undefined> {
  const [primary, secondary] = config.providers.map((p) =>
    p.apiKeyRef === noApiKey ? undefined : p.apiKeyRef,
  );
  return {
    AGENTRY_LLM_API_KEY_REF: primary,
    AGENTRY_LLM_FALLBACK_API_KEY_REF: secondary,
  };
}
