import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approveRun, submitIntent } from '@agentry/engine';
import { createExecutor, loadExecutorConfig, type ExecutorApp } from '@agentry/executor';
import { startFakeLlmServer, type FakeAnswer, type FakeLlmServer } from '@agentry/llm/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPlanner, loadPlannerConfig, type PlannerApp } from '../src';
import { openTestFleet, waitFor, type TestFleet } from './support';

/**
 * The planner chain on the real fleet (Redis, Postgres, planner and executor workers) against two
 * fake providers on 127.0.0.1: an OpenAI-compatible primary and an Anthropic secondary.
 */

// The fleet's secret store reads env:// references from the process environment.
Object.assign(process.env, { PRIMARY_KEY: 'test-key', SECONDARY_KEY: 'test-key' });
const planAnswer = (message: string): FakeAnswer => ({
  kind: 'ok',
  content: {
    summary: `say ${message}`,
    steps: [{ id: 'say', tool: 'echo', input: { message } }],
  },
  usage: { input: 2_000, output: 500 },
});
const fail500: FakeAnswer = { kind: 'status', status: 500 };

let fleet: TestFleet;
let primary: FakeLlmServer;
let secondary: FakeLlmServer;
let executor: ExecutorApp;
let planner: PlannerApp | undefined;
let pricesFile: string;

beforeAll(async () => {
  fleet = await openTestFleet('llm-chain');
  primary = await startFakeLlmServer({ defaultAnswer: fail500 });
  secondary = await startFakeLlmServer({ defaultAnswer: fail500 });
  const dir = await mkdtemp(join(tmpdir(), 'agentry-prices-'));
  pricesFile = join(dir, 'prices.json');
  await writeFile(
    pricesFile,
    JSON.stringify({ models: { 'fake-primary': { inputPerMTok: 3, outputPerMTok: 15 } } }),
  );
  executor = await createExecutor(loadExecutorConfig(fleet.env), {
    services: fleet.services,
    health: false,
  });
  await executor.start();
});
afterEach(async () => {
  await planner?.close({ deadlineMs: 2_000 });
  planner = undefined;
  primary.reset();
  secondary.reset();
  primary.clearMode();
  secondary.clearMode();
});
afterAll(async () => {
  await executor.close({ deadlineMs: 2_000 });
  await Promise.all([primary.close(), secondary.close()]);
  await fleet.close();
});

async function startPlanner(env: Record<string, string> = {}): Promise<PlannerApp> {
  const config = loadPlannerConfig({
    ...fleet.env,
    AGENTRY_LLM_PROVIDER: 'openai',
    AGENTRY_LLM_MODEL: 'fake-primary',
    AGENTRY_LLM_BASE_URL: `${primary.url}/v1`,
    AGENTRY_LLM_API_KEY_REF: 'env://PRIMARY_KEY',
    AGENTRY_LLM_FALLBACK_PROVIDER: 'anthropic',
    AGENTRY_LLM_FALLBACK_MODEL: 'fake-secondary',
    AGENTRY_LLM_FALLBACK_BASE_URL: secondary.url,
    AGENTRY_LLM_FALLBACK_API_KEY_REF: 'env://SECONDARY_KEY',
    AGENTRY_LLM_PRICES_FILE: pricesFile,
    AGENTRY_LLM_TIMEOUT_MS: '2000',
    AGENTRY_LLM_MAX_ATTEMPTS: '3',
    AGENTRY_LLM_BACKOFF_INITIAL_MS: '20',
    AGENTRY_LLM_BACKOFF_MAX_MS: '1500',
    AGENTRY_LLM_BREAKER_MIN_CALLS: '3',
    AGENTRY_LLM_BREAKER_HALF_OPEN_AFTER_MS: '1500',
    AGENTRY_PLANNER_CONCURRENCY: '4',
    ...env,
  });
  planner = await createPlanner(config, { services: fleet.services, health: false });
  await planner.start();
  return planner;
}

const submit = (text: string, extra: Record<string, unknown> = {}) =>
  submitIntent(fleet.services.engine, { text, tenantId: 'acme', ...extra });

async function settled(runId: string, states: string[]) {
  await waitFor(
    async () => states.includes((await fleet.repos.runs.get(runId))?.state ?? ''),
    10_000,
    `run ${runId} in ${states.join('/')}`,
  );
  const detail = await fleet.repos.runs.detail(runId);
  if (!detail) throw new Error(`run ${runId} vanished`);
  return detail;
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const found = (await fleet.services.registry.getSingleMetric(name)?.get())?.values.find((v) =>
    Object.entries(labels).every(([k, value]) => v.labels[k] === value),
  );
  return found?.value ?? 0;
}

describe('planner chain on the fleet', () => {
  it('plans with the primary model, runs the plan, and records tokens and cost with the run', async () => {
    await startPlanner();
    primary.script(planAnswer('hello from the model'));
    const { runId, correlationId } = await submit('greet the team');
    const detail = await settled(runId, ['succeeded']);

    expect(detail.plan).toMatchObject({ source: 'llm', producedBy: 'openai:fake-primary' });
    expect(detail.steps[0]?.output).toEqual({ message: 'hello from the model' });
    expect(detail.run.planning?.hops).toEqual([
      { planner: 'llm:openai:fake-primary', outcome: 'planned', durationMs: expect.any(Number) },
    ]);
    const calls = await fleet.repos.llmCalls.forRun(runId);
    expect(calls).toEqual([
      expect.objectContaining({
        purpose: 'plan',
        provider: 'openai',
        model: 'fake-primary',
        inputTokens: 2_000,
        outputTokens: 500,
        priced: true,
        outcome: 'ok',
      }),
    ]);
    // 2 000 × $3/M + 500 × $15/M
    expect(calls[0]?.costUsd).toBeCloseTo(0.0135, 10);
    expect(
      await metric('agentry_llm_tokens_total', { model: 'fake-primary', direction: 'input' }),
    ).toBeGreaterThanOrEqual(2_000);
    expect(
      await metric('agentry_llm_cost_usd_total', { model: 'fake-primary' }),
    ).toBeGreaterThanOrEqual(0.0135);
    // The model saw the intent and the tool catalog; the key went only in the header.
    const sent = JSON.stringify(primary.requests[0]?.body);
    expect(sent).toContain('greet the team');
    expect(sent).toContain('http.request');
    expect(
      fleet.logs.filter((l) => l.runId === runId && l.correlationId !== correlationId),
    ).toEqual([]);
    expect(detail.run.planning?.templateMatch).toBeUndefined();

    // A model planned an intent a template could have: recorded for the cost report.
    primary.script(planAnswer('two echoes by the model'));
    const matched = await submit('echo 2 steps');
    expect((await settled(matched.runId, ['succeeded'])).run.planning).toMatchObject({
      templateMatch: 'echo-chain',
    });
  });

  it('retries with Retry-After honoured, then answers; every retry is a log line of the run', async () => {
    await startPlanner();
    primary.script({ kind: 'status', status: 429, retryAfter: '1' }, planAnswer('after a wait'));
    const { runId, correlationId } = await submit('greet slowly');
    const detail = await settled(runId, ['succeeded']);
    expect(detail.plan?.source).toBe('llm');
    expect(primary.requests).toHaveLength(2);
    const retry = fleet.logs.find(
      (l) => l.msg === 'model call failed; retrying' && l.runId === runId,
    );
    expect(retry).toMatchObject({
      correlationId,
      code: 'RATE_LIMITED',
      delayMs: 1_000,
      attempt: 1,
    });
    expect(await fleet.repos.llmCalls.totals(runId)).toMatchObject({ calls: 1 });
  });

  it('skips a model whose plans stay invalid; an invalid plan never reaches the executor', async () => {
    await startPlanner();
    const badPlan: FakeAnswer = { kind: 'ok', content: { summary: 'no steps', steps: [] } };
    const unknownTool: FakeAnswer = {
      kind: 'ok',
      content: { summary: 'x', steps: [{ id: 'x', tool: 'rm.rf', input: {} }] },
    };
    primary.script(badPlan, unknownTool);
    secondary.script(planAnswer('from the secondary'));
    const { runId } = await submit('greet carefully');
    const detail = await settled(runId, ['succeeded']);

    expect(detail.plan).toMatchObject({ source: 'llm', producedBy: 'anthropic:fake-secondary' });
    expect(detail.steps.map((s) => s.tool)).toEqual(['echo']);
    expect(detail.run.planning?.hops).toEqual([
      expect.objectContaining({
        planner: 'llm:openai:fake-primary',
        outcome: 'skipped',
        code: 'PLAN_INVALID',
      }),
      expect.objectContaining({ planner: 'llm:anthropic:fake-secondary', outcome: 'planned' }),
    ]);
    // One repair round on the primary, then the secondary: three calls, all recorded.
    expect((await fleet.repos.llmCalls.forRun(runId)).map((c) => [c.provider, c.outcome])).toEqual([
      ['openai', 'invalid'],
      ['openai', 'invalid'],
      ['anthropic', 'ok'],
    ]);
  });

  it('cuts off a hung provider at the deadline, closes the socket and falls back', async () => {
    await startPlanner({ AGENTRY_LLM_TIMEOUT_MS: '300', AGENTRY_LLM_MAX_ATTEMPTS: '1' });
    primary.script({ kind: 'hang' });
    secondary.script(planAnswer('the primary hung'));
    const { runId } = await submit('greet despite a hang');
    const detail = await settled(runId, ['succeeded']);
    expect(detail.run.planning?.hops[0]).toMatchObject({ outcome: 'skipped', code: 'TIMEOUT' });
    expect(detail.plan?.producedBy).toBe('anthropic:fake-secondary');
    await waitFor(() => primary.openHungRequests() === 0, 3_000, 'hung socket closed');
  });

  it('gives each model an equal share of the planning deadline: a hung primary leaves the secondary its time', async () => {
    // Alone, the primary could take 3 × 2 s; the deadline is 3 s for both hops.
    await startPlanner({ AGENTRY_PLANNER_LLM_DEADLINE_MS: '3000' });
    primary.setMode({ kind: 'hang' });
    secondary.script(planAnswer('the secondary had time'));
    const { runId } = await submit('greet within the deadline');
    const detail = await settled(runId, ['succeeded']);
    expect(detail.plan?.producedBy).toBe('anthropic:fake-secondary');
    expect(detail.run.planning?.hops[0]).toMatchObject({
      outcome: 'skipped',
      code: 'TIMEOUT',
      reason: expect.stringMatching(/share of the planning deadline \(1[45]\d\d ms\)/),
    });
  });

  it('a shutdown mid-planning hands the job back: no fallback plan, the paid call recorded', async () => {
    const app = await startPlanner();
    primary.setMode({ kind: 'hang' });
    const { runId } = await submit('greet, then shut down');
    await waitFor(() => primary.requestCount() === 1, 5_000, 'planning started');
    await app.close({ deadlineMs: 200 });
    planner = undefined;
    const run = await fleet.repos.runs.get(runId);
    expect(run).toMatchObject({ state: 'pending', planning: null });
    expect(await fleet.queue('agentry.plan').getJobCounts('wait', 'active')).toEqual({
      wait: 1,
      active: 0,
    });
    expect(await fleet.repos.llmCalls.forRun(runId)).toEqual([
      expect.objectContaining({ provider: 'openai', outcome: 'error' }),
    ]);
    // The next planner plans it.
    primary.clearMode();
    primary.script(planAnswer('after the restart'));
    await startPlanner();
    expect((await settled(runId, ['succeeded'])).plan?.source).toBe('llm');
  });

  it('opens the breaker under 500s, stops calling until half-open, and closes on a good probe', async () => {
    await startPlanner({ AGENTRY_LLM_MAX_ATTEMPTS: '1' });
    secondary.script(...Array.from({ length: 6 }, (_, i) => planAnswer(`secondary ${i}`)));
    // Three failed calls open the primary's circuit (minCalls 3, 50%).
    for (let i = 0; i < 3; i++) await settled((await submit(`greet ${i}`)).runId, ['succeeded']);
    expect(primary.requests).toHaveLength(3);
    expect(await metric('agentry_llm_breaker_state', { provider: 'openai' })).toBe(2);

    // While open, the primary is not called at all; the secondary plans.
    const during = await settled((await submit('greet while open')).runId, ['succeeded']);
    expect(primary.requests).toHaveLength(3);
    expect(during.run.planning?.hops[0]).toMatchObject({
      outcome: 'skipped',
      code: 'UNAVAILABLE',
      reason: expect.stringContaining('circuit'),
    });
    const opened = fleet.logs.find((l) => l.msg === 'circuit opened: calls to this provider stop');
    expect(opened).toMatchObject({
      provider: 'openai',
      to: 'OPEN',
      correlationId: expect.any(String),
    });

    // After the half-open delay one probe goes through; the recovered provider closes the circuit.
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    primary.script(planAnswer('recovered'));
    const after = await settled((await submit('greet after recovery')).runId, ['succeeded']);
    expect(after.plan?.producedBy).toBe('openai:fake-primary');
    expect(primary.requests).toHaveLength(4);
    expect(await metric('agentry_llm_breaker_state', { provider: 'openai' })).toBe(0);
    expect(
      await metric('agentry_llm_breaker_transitions_total', { provider: 'openai', to: 'CLOSED' }),
    ).toBe(1);
  });

  it('with every provider down, a burst still gets plans: templates where they match, else a fallback awaiting approval', async () => {
    await startPlanner();
    const burst = await Promise.all([
      ...Array.from({ length: 12 }, (_, i) => submit(`tell me something ${i}`)),
      submit('deploy build 7 to staging'),
    ]);
    const runs = await Promise.all(
      burst.map((r) => settled(r.runId, ['awaiting_approval', 'succeeded'])),
    );
    const fallbacks = runs.filter((r) => r.plan?.source === 'fallback');
    expect(fallbacks).toHaveLength(12);
    for (const r of fallbacks) {
      expect(r.run.state).toBe('awaiting_approval');
      expect(r.plan?.producedBy).toBe('fallback:needs-approval');
      expect(r.run.planning?.hops.map((h) => [h.planner, h.outcome])).toEqual([
        ['llm:openai:fake-primary', 'skipped'],
        ['llm:anthropic:fake-secondary', 'skipped'],
        ['template', 'skipped'],
        ['fallback', 'planned'],
      ]);
    }
    const templated = runs.find((r) => r.plan?.source === 'template');
    expect(templated?.run.state).toBe('succeeded');

    // Bounded: 13 intents × 3 attempts would be 39 calls per provider without budget and breaker.
    expect(primary.requests.length).toBeLessThanOrEqual(13 + 5);
    expect(secondary.requests.length).toBeLessThanOrEqual(13 + 5);

    // Nothing is lost: an operator approves a fallback plan and it runs.
    const first = fallbacks[0];
    if (!first) throw new Error('no fallback run');
    await approveRun(fleet.services.engine, {
      runId: first.run.id,
      actor: 'oncall',
      reason: 'ok',
      planHash: first.plan?.hash ?? '',
    });
    await settled(first.run.id, ['succeeded']);
    expect(
      await metric('agentry_planner_hops_total', { planner: 'fallback', outcome: 'planned' }),
    ).toBeGreaterThanOrEqual(12);
  });

  it('refuses to start when a key reference does not resolve, naming the variable', async () => {
    await expect(
      startPlanner({ AGENTRY_LLM_API_KEY_REF: 'env://AGENTRY_TEST_KEY_NEVER_SET' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringContaining(
        'AGENTRY_LLM_API_KEY_REF=env://AGENTRY_TEST_KEY_NEVER_SET: [NOT_FOUND]',
      ),
    });
  });
});
