import { isAppError, parseEnv } from '@agentry/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { createProviders } from './create-providers';
import { llmEnv, toLlmConfig } from './llm-config';
import { startFakeLlmServer } from './testing';

const server = await startFakeLlmServer();
afterAll(() => server.close());

const configOf = (env: Record<string, string>) => toLlmConfig(parseEnv(llmEnv, env));

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('model configuration', () => {
  it('has no provider by default: plans come from templates', () => {
    expect(configOf({}).providers).toEqual([]);
  });

  it('refuses a provider without a model, and a secondary without a primary', () => {
    expect(thrown(() => configOf({ AGENTRY_LLM_PROVIDER: 'openai' })).message).toMatch(
      /needs a model/,
    );
    expect(
      thrown(() =>
        configOf({ AGENTRY_LLM_FALLBACK_PROVIDER: 'anthropic', AGENTRY_LLM_FALLBACK_MODEL: 'm' }),
      ).message,
    ).toMatch(/set the primary first/);
  });

  it('refuses an Azure api-version on a provider that is not OpenAI-compatible', () => {
    expect(
      thrown(() =>
        configOf({
          AGENTRY_LLM_PROVIDER: 'anthropic',
          AGENTRY_LLM_MODEL: 'm',
          AGENTRY_LLM_AZURE_API_VERSION: '2024-10-21',
        }),
      ).message,
    ).toMatch(/AGENTRY_LLM_AZURE_API_VERSION applies to an openai provider only/);
    const config = configOf({
      AGENTRY_LLM_PROVIDER: 'anthropic',
      AGENTRY_LLM_MODEL: 'm',
      AGENTRY_LLM_FALLBACK_PROVIDER: 'openai',
      AGENTRY_LLM_FALLBACK_MODEL: 'gpt',
      AGENTRY_LLM_FALLBACK_AZURE_API_VERSION: '2024-10-21',
    });
    expect(config.providers[1]).toMatchObject({ kind: 'openai', azureApiVersion: '2024-10-21' });
  });

  it('refuses a key where a reference belongs, without repeating the value', () => {
    const error = thrown(() =>
      configOf({
        AGENTRY_LLM_PROVIDER: 'openai',
        AGENTRY_LLM_MODEL: 'm',
        AGENTRY_LLM_API_KEY_REF: 'sk-live-not-a-reference',
      }),
    );
    expect(isAppError(error) && error.code).toBe('VALIDATION');
    expect(error.message).toContain('AGENTRY_LLM_API_KEY_REF');
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('sk-live');
  });

  it('a missing key variable is a non-retried POLICY_DENIED naming it, not an outage', async () => {
    const config = configOf({
      AGENTRY_LLM_PROVIDER: 'openai',
      AGENTRY_LLM_MODEL: 'm',
      AGENTRY_LLM_BASE_URL: `${server.url}/v1`,
      AGENTRY_LLM_API_KEY_REF: 'env://UNSET_TEST_KEY',
      AGENTRY_LLM_BREAKER_MIN_CALLS: '1',
    });
    const [provider] = createProviders(config, { env: {} });
    const error = await provider
      ?.complete({ system: '', messages: [{ role: 'user', content: 'x' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: 'POLICY_DENIED', retryable: false });
    expect((error as Error).message).toContain('UNSET_TEST_KEY');
    expect(provider?.breakerState).toBe('CLOSED');
    expect(server.requestCount()).toBe(0);
  });

  it('"none" sends no credential (a local model server)', async () => {
    const config = configOf({
      AGENTRY_LLM_PROVIDER: 'openai',
      AGENTRY_LLM_MODEL: 'm',
      AGENTRY_LLM_BASE_URL: `${server.url}/v1`,
      AGENTRY_LLM_API_KEY_REF: 'none',
    });
    const [provider] = createProviders(config, { env: {} });
    await provider
      ?.complete({ system: '', messages: [{ role: 'user', content: 'x' }] })
      .catch(() => {});
    expect(server.requests.at(-1)?.headers.authorization).toBeUndefined();
  });
});
