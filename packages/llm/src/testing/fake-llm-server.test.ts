import { isAppError, validatePlan, type AppError } from '@agentry/schema';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicProvider } from '../anthropic-provider';
import { openAiCompatibleProvider } from '../openai-compatible-provider';
import type { LlmProvider } from '../provider';
import { structuredPlan, type ToolDescription } from '../structured-plan';
import { startFakeLlmServer } from './fake-llm-server';

const server = await startFakeLlmServer();
afterAll(() => server.close());
beforeEach(() => server.reset());

const providers: Record<'openai' | 'anthropic', (timeoutMs?: number) => LlmProvider> = {
  openai: (timeoutMs = 2_000) =>
    openAiCompatibleProvider({
      baseUrl: `${server.url}/v1`,
      apiKey: () => 'test-key',
      model: 'fake-model',
      timeoutMs,
    }),
  anthropic: (timeoutMs = 2_000) =>
    anthropicProvider({
      baseUrl: server.url,
      apiKey: () => 'test-key',
      model: 'fake-model',
      maxTokens: 1_024,
      timeoutMs,
    }),
};
const apis = ['openai', 'anthropic'] as const;

const http: ToolDescription = { name: 'http.request', description: 'make an HTTP request' };
const tools: ToolDescription[] = [http, { name: 'echo', description: 'return the message' }];
const known = new Set(tools.map((tool) => tool.name));
const planner = (api: (typeof apis)[number], toolCatalog = tools) =>
  structuredPlan({ provider: providers[api](), toolCatalog });

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const caught: unknown = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!isAppError(caught)) throw new Error(`expected an AppError, got ${String(caught)}`);
  return caught;
}

describe.each(apis)('fake LLM server, %s API', (api) => {
  it('answers a planning request with a valid echo plan of the intent, with non-zero usage', async () => {
    const { plan, calls } = await planner(api).plan('say hello to the operator');

    expect(validatePlan(plan, known).plan.steps).toEqual([
      expect.objectContaining({
        id: 'answer',
        tool: 'echo',
        input: { message: 'say hello to the operator' },
      }),
    ]);
    expect(plan.summary).toBe('Fake plan: say hello to the operator');
    expect(calls).toEqual([expect.objectContaining({ outcome: 'ok' })]);
    expect(calls[0]?.inputTokens).toBeGreaterThan(0);
    expect(calls[0]?.outputTokens).toBeGreaterThan(0);
    expect(server.requestCount()).toBe(1);
  });

  it('plans with the first listed tool when echo is not listed', async () => {
    const { plan } = await planner(api, [http]).plan('fetch it');
    expect(plan.steps).toMatchObject([{ id: 'answer', tool: 'http.request', input: {} }]);
  });

  it('answers a free-text request with text about the last user message', async () => {
    const answer = await providers[api]().complete({
      system: 'be brief',
      messages: [{ role: 'user', content: 'what is the time?' }],
    });
    expect(answer.content).toBe('fake answer to: what is the time?');
    expect(answer.usage.inputTokens).toBeGreaterThan(0);
  });

  it.each(['invalid-plan', 'unknown-tool', 'truncated'] as const)(
    'an answer of kind %s fails validation and, repaired the same way, ends in PLAN_INVALID after 2 calls',
    async (kind) => {
      server.script({ kind }, { kind });
      const error = await failure(planner(api).plan('say hello'));
      expect(error.code).toBe('PLAN_INVALID');
      expect(server.requestCount()).toBe(2);
      if (kind === 'unknown-tool') expect(JSON.stringify(error.details)).toContain('no.such-tool');
    },
  );

  it('stays in a mode until it is cleared; the script wins over it', async () => {
    server.setMode({ kind: 'status', status: 500 });
    for (let i = 0; i < 3; i++)
      expect((await failure(planner(api).plan('x'))).code).toBe('TRANSIENT');
    server.script({ kind: 'plan' });
    expect((await planner(api).plan('x')).plan.steps).toHaveLength(1);
    expect((await failure(planner(api).plan('x'))).code).toBe('TRANSIENT');
    expect(server.stats()).toMatchObject({ requests: 5, mode: 'status' });

    server.clearMode();
    expect((await planner(api).plan('x')).plan.steps).toHaveLength(1);
  });

  it('a mode with times ends by itself', async () => {
    server.setMode({ kind: 'status', status: 503, retryAfter: '1' }, { times: 2 });
    expect((await failure(planner(api).plan('x'))).code).toBe('UNAVAILABLE');
    expect((await failure(planner(api).plan('x'))).code).toBe('UNAVAILABLE');
    expect((await planner(api).plan('x')).calls).toHaveLength(1);
    expect(server.stats().mode).toBeNull();
  });
});

describe('fake LLM server answers', () => {
  it('a truncated answer stops for length (OpenAI) and max_tokens (Anthropic)', async () => {
    const ask = async (path: string, headers: Record<string, string>, body: object) => {
      server.script({ kind: 'truncated' });
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      return (await response.json()) as Record<string, unknown>;
    };
    const messages = [{ role: 'user', content: 'hello there' }];
    const openai = await ask(
      '/v1/chat/completions',
      { authorization: 'Bearer test-key' },
      {
        messages,
      },
    );
    expect(openai.choices).toEqual([
      expect.objectContaining({
        finish_reason: 'length',
        message: { role: 'assistant', content: expect.stringMatching(/^fake answer t/) as unknown },
      }),
    ]);
    const anthropic = await ask(
      '/v1/messages',
      { 'x-api-key': 'test-key', 'anthropic-version': '2023-06-01' },
      { messages, tools: [], tool_choice: { type: 'tool', name: 'agentry_plan' } },
    );
    expect(anthropic.stop_reason).toBe('max_tokens');
    expect(anthropic.content).toEqual([{ type: 'text', text: expect.stringMatching(/^\{"summ/) }]);
  });

  it('a plan answer with delayMs is late: TIMEOUT under a shorter bound', async () => {
    server.setMode({ kind: 'plan', delayMs: 300 });
    const slow = structuredPlan({ provider: providers.openai(100), toolCatalog: tools });
    expect((await failure(slow.plan('x'))).code).toBe('TIMEOUT');
  });

  it('deals a list of answers in turn as one mode, recording when each request came and what it got', async () => {
    const openai = providers.openai(300);
    server.setMode([{ kind: 'status', status: 500 }, { kind: 'hang' }, { kind: 'garbage' }], {
      times: 4,
    });
    expect(server.stats().mode).toBe('mixed');
    const codes = [];
    for (let i = 0; i < 5; i++) {
      codes.push(
        await openai.complete({ system: 's', messages: [{ role: 'user', content: 'x' }] }).then(
          () => 'ok',
          (e: AppError) => e.code,
        ),
      );
    }
    expect(codes).toEqual(['TRANSIENT', 'TIMEOUT', 'TRANSIENT', 'TRANSIENT', 'ok']);
    expect(server.requests.map((r) => r.answer)).toEqual([
      'status',
      'hang',
      'garbage',
      'status',
      'plan',
    ]);
    expect(server.requests.every((r) => r.at > 0)).toBe(true);
    // The hung request was cut by the client's deadline, and the server saw it go.
    await expect.poll(() => server.requests[1]?.hungForMs).toBeGreaterThan(0);
    expect(server.stats().mode).toBeNull();
  });

  it('plans with planFor when given, in a repair round too (it sees every user message)', async () => {
    const seen: string[][] = [];
    await using custom = await startFakeLlmServer({
      planFor: (request) => {
        seen.push(request.userTexts);
        return request.userTexts[0] === 'fetch the site'
          ? { summary: 'custom', steps: [{ id: 'get', tool: 'http.request', input: {} }] }
          : undefined;
      },
    });
    custom.script({ kind: 'invalid-plan' });
    const planning = structuredPlan({
      provider: openAiCompatibleProvider({
        baseUrl: `${custom.url}/v1`,
        apiKey: () => 'test-key',
        model: 'fake-model',
        timeoutMs: 2_000,
      }),
      toolCatalog: tools,
    });
    const { plan } = await planning.plan('fetch the site');
    expect(plan).toMatchObject({ summary: 'custom', steps: [{ id: 'get', tool: 'http.request' }] });
    expect(seen).toEqual([['fetch the site', expect.stringContaining('That plan is invalid')]]);
    // Another intent: the default echo plan.
    expect((await planning.plan('say hi')).plan.steps[0]?.tool).toBe('echo');
  });

  it('binds the port it is given, and rejects when that port is taken', async () => {
    await expect(startFakeLlmServer({ port: server.port })).rejects.toThrow(/EADDRINUSE/);
    const probe = await startFakeLlmServer();
    await probe.close();
    await using fixed = await startFakeLlmServer({ port: probe.port });
    expect(fixed.url).toBe(`http://127.0.0.1:${probe.port}`);
  });
});
