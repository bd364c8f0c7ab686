import { Plan, isAppError, type AppError } from '@agentry/schema';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { LlmCall } from './llm-call';
import { openAiCompatibleProvider } from './openai-compatible-provider';
import { defaultLlmPolicy, guardProvider } from './guarded-provider';
import { priceTable } from './price-table';
import { structuredPlan } from './structured-plan';
import { startFakeLlmServer } from './testing';

const server = await startFakeLlmServer();
afterAll(() => server.close());
beforeEach(() => server.reset());

const provider = openAiCompatibleProvider({
  baseUrl: `${server.url}/v1`,
  apiKey: () => 'test-key',
  model: 'gpt-test',
  timeoutMs: 2_000,
});
const prices = priceTable({ models: { 'gpt-test': { inputPerMTok: 2, outputPerMTok: 10 } } });
const planner = structuredPlan({
  provider,
  prices,
  toolCatalog: [{ name: 'http.request', description: 'make an HTTP request' }],
});

const validPlan = {
  summary: 'check the site',
  steps: [{ id: 'get', tool: 'http.request', input: { url: 'https://example.org' } }],
};
const usage = { input: 1_000, output: 500 };

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const caught: unknown = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!isAppError(caught)) throw new Error(`expected an AppError, got ${String(caught)}`);
  return caught;
}

describe('structuredPlan', () => {
  it('asks with the plan JSON Schema and returns a validated plan with one priced call', async () => {
    server.script({ kind: 'ok', content: validPlan, usage });
    const { plan, calls } = await planner.plan('check example.org');

    expect(plan).toMatchObject({ source: 'llm', producedBy: 'openai:gpt-test', ...validPlan });
    expect(Plan.safeParse(plan).success).toBe(true);
    expect(calls).toEqual([
      expect.objectContaining({
        provider: 'openai',
        model: 'gpt-test',
        inputTokens: 1_000,
        outputTokens: 500,
        costUsd: 0.007,
        priced: true,
        outcome: 'ok',
      }),
    ]);
    const body = server.requests[0]?.body as {
      response_format: { json_schema: { name: string; schema: { properties: object } } };
      messages: { role: string; content: string }[];
    };
    expect(body.response_format.json_schema.name).toBe('agentry_plan');
    expect(Object.keys(body.response_format.json_schema.schema.properties)).toEqual(
      expect.arrayContaining(['summary', 'steps']),
    );
    // Ours to fill in, not the model's.
    expect(body.response_format.json_schema.schema.properties).not.toHaveProperty('source');
    expect(body.messages[0]?.content).toContain('http.request');
    expect(body.messages.at(-1)).toEqual({ role: 'user', content: 'check example.org' });
  });

  it('repairs once: an invalid answer then a valid one makes 2 calls and a plan', async () => {
    server.script(
      { kind: 'ok', content: { summary: 'x', steps: [] }, usage },
      { kind: 'ok', content: validPlan, usage },
    );
    const { plan, calls } = await planner.plan('check example.org');

    expect(plan.steps).toHaveLength(1);
    expect(calls.map((c) => c.outcome)).toEqual(['invalid', 'ok']);
    expect(server.requests).toHaveLength(2);
    const repair = (server.requests[1]?.body as { messages: { role: string; content: string }[] })
      .messages;
    expect(repair.at(-2)?.role).toBe('assistant');
    expect(repair.at(-1)?.content).toContain('at least one step');
  });

  it('rejects with PLAN_INVALID after exactly 2 calls when both answers are invalid', async () => {
    server.script(
      { kind: 'ok', content: 'not json at all' },
      { kind: 'ok', content: { summary: 'x', steps: [{ id: 'a', tool: 'shell.exec' }] } },
    );
    const seen: LlmCall[] = [];
    const error = await failure(planner.plan('do it', { onCall: (call) => seen.push(call) }));

    expect(error.code).toBe('PLAN_INVALID');
    expect(error.retryable).toBe(false);
    expect(error.details?.issues).toEqual(expect.any(Array));
    expect(server.requests).toHaveLength(2);
    expect(seen.map((c) => c.outcome)).toEqual(['invalid', 'invalid']);
  });

  it('passes a provider fault on and records it as an error call', async () => {
    server.script({ kind: 'status', status: 503 });
    const seen: LlmCall[] = [];
    const error = await failure(planner.plan('do it', { onCall: (call) => seen.push(call) }));
    expect(error.code).toBe('UNAVAILABLE');
    expect(seen).toEqual([expect.objectContaining({ outcome: 'error', errorCode: 'UNAVAILABLE' })]);
    expect(server.requests).toHaveLength(1);
  });

  it('behind a guard, an invalid answer is repaired (not retried) and counts against the circuit', async () => {
    const guarded = guardProvider(provider, {
      ...defaultLlmPolicy,
      breaker: { ...defaultLlmPolicy.breaker, minCalls: 2, threshold: 0.5 },
    });
    const guardedPlanner = structuredPlan({
      provider: guarded,
      prices,
      toolCatalog: [{ name: 'http.request', description: 'make an HTTP request' }],
    });
    server.script(
      { kind: 'ok', content: 'Sure! First, check the site.', usage },
      { kind: 'ok', content: validPlan, usage },
    );
    const { plan, calls } = await guardedPlanner.plan('check example.org');
    expect(plan.steps).toHaveLength(1);
    expect(calls.map((c) => c.outcome)).toEqual(['invalid', 'ok']);
    expect(calls[0]).toMatchObject({ inputTokens: 1_000, outputTokens: 500, costUsd: 0.007 });
    expect(server.requests).toHaveLength(2);
    expect(guarded.breakerState).toBe('CLOSED');

    server.script({ kind: 'invalid-plan' }, { kind: 'unknown-tool' });
    // Two unusable answers of three open the circuit: the repair round is refused unsent.
    expect((await failure(guardedPlanner.plan('check example.org'))).code).toBe('UNAVAILABLE');
    expect(server.requests).toHaveLength(3);
    expect(guarded.breakerState).toBe('OPEN');
  });
});
