import { isAppError, type AppError } from '@agentry/schema';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicProvider } from './anthropic-provider';
import { startFakeLlmServer } from './testing';

const server = await startFakeLlmServer({ apiKey: 'ant-secret-456' });
afterAll(() => server.close());
beforeEach(() => server.reset());

const provider = (overrides: Partial<Parameters<typeof anthropicProvider>[0]> = {}) =>
  anthropicProvider({
    baseUrl: server.url,
    apiKey: async () => 'ant-secret-456',
    model: 'claude-test',
    maxTokens: 1_024,
    timeoutMs: 2_000,
    ...overrides,
  });

const schema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: { ok: { type: 'boolean' } },
};

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const caught: unknown = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!isAppError(caught)) throw new Error(`expected an AppError, got ${String(caught)}`);
  return caught;
}

describe('anthropicProvider', () => {
  it('requests structured output tool-use style and returns the tool input as JSON', async () => {
    server.script({ kind: 'ok', content: { ok: true }, usage: { input: 200, output: 50 } });
    const answer = await provider().complete({
      system: 'be brief',
      messages: [{ role: 'user', content: 'hi' }],
      jsonSchema: { name: 'answer', schema },
    });

    expect(JSON.parse(answer.content)).toEqual({ ok: true });
    expect(answer.usage).toEqual({ inputTokens: 200, outputTokens: 50 });
    expect(answer.model).toBe('claude-test');
    const received = server.requests[0];
    expect(received?.url).toBe('/v1/messages');
    expect(received?.headers['x-api-key']).toBe('ant-secret-456');
    expect(received?.headers['anthropic-version']).toBe('2023-06-01');
    expect(received?.headers.authorization).toBeUndefined();
    expect(received?.body).toEqual({
      model: 'claude-test',
      max_tokens: 1_024,
      system: 'be brief',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [
        {
          name: 'answer',
          description: expect.any(String) as unknown,
          input_schema: { type: 'object', properties: { ok: { type: 'boolean' } } },
        },
      ],
      tool_choice: { type: 'tool', name: 'answer' },
    });
  });

  it('returns plain text when no schema is asked for', async () => {
    server.script({ kind: 'ok', content: 'hello' });
    const answer = await provider().complete({
      system: 's',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(answer.content).toBe('hello');
    expect(server.requests[0]?.body).not.toHaveProperty('tools');
  });

  it.each([
    [{ kind: 'status', status: 500 }, 'TRANSIENT'],
    [{ kind: 'status', status: 529 }, 'UNAVAILABLE'],
    [{ kind: 'status', status: 429, retryAfter: '2' }, 'RATE_LIMITED'],
    [{ kind: 'garbage' }, 'TRANSIENT'],
  ] as const)('maps %o to %s', async (fault, code) => {
    server.script(fault);
    const error = await failure(
      provider().complete({ system: 's', messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(error.code).toBe(code);
    if (code === 'RATE_LIMITED') expect(error.details?.retryAfterMs).toBe(2_000);
  });

  it('maps a rejected key to POLICY_DENIED and a hang to TIMEOUT', async () => {
    const denied = await failure(
      provider({ apiKey: () => 'ant-wrong' }).complete({ system: 's', messages: [] }),
    );
    expect(denied.code).toBe('POLICY_DENIED');
    expect(denied.retryable).toBe(false);
    expect(JSON.stringify(denied.details)).not.toContain('ant-wrong');

    server.script({ kind: 'hang' });
    const started = performance.now();
    const hung = await failure(
      provider({ timeoutMs: 150 }).complete({ system: 's', messages: [] }),
    );
    expect(hung.code).toBe('TIMEOUT');
    expect(performance.now() - started).toBeLessThan(1_500);
  });
});
