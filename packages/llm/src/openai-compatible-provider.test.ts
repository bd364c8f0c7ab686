import { isAppError, type AppError } from '@agentry/schema';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeLlmServer } from './testing';
import { openAiCompatibleProvider } from './openai-compatible-provider';

const server = await startFakeLlmServer({ apiKey: 'sk-secret-123' });
afterAll(() => server.close());
beforeEach(() => server.reset());

const provider = (overrides: Partial<Parameters<typeof openAiCompatibleProvider>[0]> = {}) =>
  openAiCompatibleProvider({
    baseUrl: `${server.url}/v1`,
    apiKey: () => 'sk-secret-123',
    model: 'gpt-test',
    timeoutMs: 2_000,
    ...overrides,
  });

const request = {
  system: 'be brief',
  messages: [{ role: 'user' as const, content: 'hi' }],
  jsonSchema: {
    name: 'answer',
    schema: { type: 'object', properties: { ok: { type: 'boolean' } } },
  },
};

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const caught: unknown = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!isAppError(caught)) throw new Error(`expected an AppError, got ${String(caught)}`);
  return caught;
}

describe('openAiCompatibleProvider', () => {
  it('sends a chat-completions request with json_schema and reads content and usage', async () => {
    server.script({ kind: 'ok', content: { ok: true }, usage: { input: 120, output: 30 } });
    const answer = await provider().complete(request);

    expect(JSON.parse(answer.content)).toEqual({ ok: true });
    expect(answer.usage).toEqual({ inputTokens: 120, outputTokens: 30 });
    expect(answer.model).toBe('gpt-test');
    expect(answer.latencyMs).toBeGreaterThanOrEqual(0);
    expect(server.requests).toHaveLength(1);
    const received = server.requests[0];
    expect(received?.url).toBe('/v1/chat/completions');
    expect(received?.headers.authorization).toBe('Bearer sk-secret-123');
    expect(received?.body).toEqual({
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: request.jsonSchema.schema, strict: false },
      },
    });
  });

  it('speaks Azure: api-key header and api-version query', async () => {
    const answer = await provider({ azure: { apiVersion: '2024-10-21' } }).complete(request);
    expect(answer.content).toBe('{"ok":true}');
    expect(server.requests[0]?.url).toBe('/v1/chat/completions?api-version=2024-10-21');
    expect(server.requests[0]?.headers['api-key']).toBe('sk-secret-123');
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
  });

  it.each([
    [500, 'TRANSIENT'],
    [502, 'TRANSIENT'],
    [503, 'UNAVAILABLE'],
    [400, 'VALIDATION'],
  ] as const)('maps HTTP %i to %s', async (status, code) => {
    server.script({ kind: 'status', status });
    const error = await failure(provider().complete(request));
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(code !== 'VALIDATION');
    expect(error.details).toMatchObject({ status });
  });

  it('maps 429 to RATE_LIMITED with retryAfterMs from Retry-After seconds', async () => {
    server.script({ kind: 'status', status: 429, retryAfter: '3' });
    const error = await failure(provider().complete(request));
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryable).toBe(true);
    expect(error.details?.retryAfterMs).toBe(3_000);
  });

  it('reads an HTTP-date Retry-After against the clock', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    server.script({ kind: 'status', status: 429, retryAfter: 'Thu, 01 Jan 2026 00:00:05 GMT' });
    const error = await failure(provider({ now: () => now }).complete(request));
    expect(error.details?.retryAfterMs).toBe(5_000);
  });

  it('maps 401 to a non-retryable POLICY_DENIED without the key in it', async () => {
    const error = await failure(provider({ apiKey: () => 'sk-wrong-key' }).complete(request));
    expect(error.code).toBe('POLICY_DENIED');
    expect(error.retryable).toBe(false);
    expect(error.details?.credentialRejected).toBe(true);
    expect(JSON.stringify({ m: error.message, d: error.details })).not.toContain('sk-wrong-key');
  });

  it('cuts a hung call off with TIMEOUT within the bound', async () => {
    server.script({ kind: 'hang' });
    const started = performance.now();
    const error = await failure(provider({ timeoutMs: 200 }).complete(request));
    const elapsed = performance.now() - started;
    expect(error.code).toBe('TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1_500);
    // The abort closes the socket: the server is not left holding the hung request.
    await expect.poll(() => server.openHungRequests()).toBe(0);
  });

  it('scrubs the key from an upstream error that echoes it', async () => {
    server.script({
      kind: 'status',
      status: 401,
      body: { error: { message: 'Incorrect API key provided: sk-secret-123.' } },
    });
    const error = await failure(provider().complete(request));
    expect(error.code).toBe('POLICY_DENIED');
    expect(error.details?.upstream).toBe('Incorrect API key provided: [redacted].');
    expect(JSON.stringify(error.toJSON())).not.toContain('sk-secret-123');
  });

  it('maps a failing key source to UNAVAILABLE without calling the server', async () => {
    const noKey = provider({
      apiKey: () => Promise.reject(new Error('vault sealed')),
    });
    const error = await failure(noKey.complete(request));
    expect(error.code).toBe('UNAVAILABLE');
    expect(server.requests).toHaveLength(0);
  });

  it('times out a slow answer and accepts it when the bound allows', async () => {
    server.script({ kind: 'ok', content: 'late', delayMs: 300 });
    expect((await failure(provider({ timeoutMs: 100 }).complete(request))).code).toBe('TIMEOUT');
    server.script({ kind: 'ok', content: 'on time', delayMs: 50 });
    expect((await provider().complete(request)).content).toBe('on time');
  });

  it('maps a caller abort to CANCELLED', async () => {
    server.script({ kind: 'hang' });
    const controller = new AbortController();
    const call = provider().complete(request, controller.signal);
    setTimeout(() => controller.abort(), 50);
    expect((await failure(call)).code).toBe('CANCELLED');
  });

  it('maps a non-JSON body to TRANSIENT', async () => {
    server.script({ kind: 'garbage' });
    const error = await failure(provider().complete(request));
    expect(error.code).toBe('TRANSIENT');
    expect(error.retryable).toBe(true);
  });

  it('maps a reset connection to TRANSIENT with the cause kept', async () => {
    server.script({ kind: 'reset' });
    const error = await failure(provider().complete(request));
    expect(error.code).toBe('TRANSIENT');
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  it('maps a refused connection to TRANSIENT', async () => {
    const gone = await startFakeLlmServer();
    await gone.close();
    const error = await failure(provider({ baseUrl: `${gone.url}/v1` }).complete(request));
    expect(error.code).toBe('TRANSIENT');
  });
});
