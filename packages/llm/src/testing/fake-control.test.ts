import { isAppError, type AppError } from '@agentry/schema';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicProvider } from '../anthropic-provider';
import { openAiCompatibleProvider } from '../openai-compatible-provider';
import { startFakeLlmServer } from './fake-llm-server';

const server = await startFakeLlmServer({ apiKey: 'control-test-key' });
afterAll(() => server.close());
beforeEach(() => server.reset());

const openai = openAiCompatibleProvider({
  baseUrl: `${server.url}/v1`,
  apiKey: () => 'control-test-key',
  model: 'fake-model',
  timeoutMs: 2_000,
});
const anthropic = anthropicProvider({
  baseUrl: server.url,
  apiKey: () => 'control-test-key',
  model: 'fake-model',
  maxTokens: 256,
  timeoutMs: 2_000,
});
const request = { system: 's', messages: [{ role: 'user' as const, content: 'hi' }] };

/** A control call as another process would make it: plain HTTP, no key. */
async function control(method: 'GET' | 'POST', path: string, body?: unknown) {
  const response = await fetch(`${server.url}/_fake/${path}`, {
    method,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const caught: unknown = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!isAppError(caught)) throw new Error(`expected an AppError, got ${String(caught)}`);
  return caught;
}

describe('fake LLM server control API', () => {
  it('scripts answers over HTTP that the next provider calls get, in order', async () => {
    const scripted = await control('POST', 'script', [
      { kind: 'status', status: 429, retryAfter: '2' },
      { kind: 'ok', content: 'scripted hello' },
    ]);
    expect(scripted).toEqual({ status: 200, body: expect.objectContaining({ scripted: 2 }) });

    const limited = await failure(openai.complete(request));
    expect(limited.code).toBe('RATE_LIMITED');
    expect(limited.details?.retryAfterMs).toBe(2_000);
    expect((await anthropic.complete(request)).content).toBe('scripted hello');
    expect((await openai.complete(request)).content).toBe('fake answer to: hi');
  });

  it('sets a sticky mode over HTTP, and {"kind":"plan"} restores plan answers', async () => {
    expect((await control('POST', 'mode', { kind: 'status', status: 500 })).status).toBe(200);
    for (let i = 0; i < 3; i++)
      expect((await failure(openai.complete(request))).code).toBe('TRANSIENT');
    expect((await control('POST', 'mode', { kind: 'plan' })).body.mode).toBe('plan');
    expect((await openai.complete(request)).content).toBe('fake answer to: hi');

    await control('POST', 'mode', { kind: 'reset', times: 1 });
    expect((await failure(anthropic.complete(request))).code).toBe('TRANSIENT');
    expect((await anthropic.complete(request)).content).toBe('fake answer to: hi');
  });

  it('sets a mixed mode over HTTP: its answers dealt in turn, `times` calls in all', async () => {
    const mixed = await control('POST', 'mode', {
      answers: [
        { kind: 'status', status: 500 },
        { kind: 'status', status: 429, retryAfter: '1' },
        { kind: 'garbage' },
      ],
      times: 3,
    });
    expect(mixed).toEqual({ status: 200, body: expect.objectContaining({ mode: 'mixed' }) });
    const codes = [];
    for (let i = 0; i < 4; i++)
      codes.push(
        await openai.complete(request).then(
          () => 'ok',
          (e: AppError) => e.code,
        ),
      );
    expect(codes).toEqual(['TRANSIENT', 'RATE_LIMITED', 'TRANSIENT', 'ok']);
  });

  it('counts requests by API and open hung requests, and resets', async () => {
    await openai.complete(request);
    await anthropic.complete(request);
    await anthropic.complete(request);
    server.script({ kind: 'hang' });
    const controller = new AbortController();
    const hung = failure(openai.complete(request, controller.signal));
    await expect.poll(async () => (await control('GET', 'stats')).body.openHung).toBe(1);

    expect((await control('GET', 'stats')).body).toEqual({
      requests: 4,
      byApi: { openai: 2, anthropic: 2 },
      openHung: 1,
      scripted: 0,
      mode: null,
    });
    controller.abort();
    expect((await hung).code).toBe('CANCELLED');
    await expect.poll(async () => (await control('GET', 'stats')).body.openHung).toBe(0);

    await control('POST', 'mode', { kind: 'hang' });
    const reset = await control('POST', 'reset');
    expect(reset.body).toMatchObject({ requests: 0, mode: null });
    expect(server.requestCount()).toBe(0);
  });

  it.each([
    ['script', 'not json', /the body is not JSON/],
    ['script', { kind: 'ok', content: 'x' }, /must be an array of answers/],
    ['script', [{ kind: 'teapot' }], /kind/],
    ['script', [{ kind: 'status', status: 42 }], /status/],
    ['mode', [], /must be an answer/],
    ['mode', { kind: 'hang', times: -1 }, /times/],
    ['mode', { kind: 'ok', content: 'x', extra: true }, /extra/],
    ['mode', { answers: [] }, /`answers` must be a non-empty array/],
    ['mode', { answers: [{ kind: 'teapot' }] }, /kind/],
  ])('refuses a bad body for %s (%j) with a 400 that says why', async (path, body, message) => {
    const { status, body: answer } = await control('POST', path, body);
    expect(status).toBe(400);
    expect(answer.error).toMatch(message);
    expect(server.stats()).toMatchObject({ scripted: 0, mode: null });
  });

  it('answers an unknown control route with 404 listing the routes', async () => {
    const { status, body } = await control('GET', 'script');
    expect(status).toBe(404);
    expect(body.error).toMatch(/POST \/_fake\/script/);
  });
});
