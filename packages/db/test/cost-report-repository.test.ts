import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Plan, topologicalOrder, type PlanInput, type RiskLevel } from '@agentry/schema';
import {
  createRepositories,
  migrateToLatest,
  openDatabase,
  type CostWindow,
  type LlmCallInput,
  type Repositories,
} from '../src';
import { createTestDatabase, type TestDatabase } from '../src/testing';
import { intent, runInput } from './fixtures';

type StepSpec = [id: string, tool: string, risk: RiskLevel];

/**
 * Two tenants' runs around a two-day window, written through the real repositories with a
 * controlled clock (every `at` and plan time is the clock's).
 */
describe('cost report repository (Postgres)', () => {
  let t: TestDatabase;
  let repos: Repositories;
  let now = new Date();
  const at = (iso: string) => (now = new Date(iso));
  const window: CostWindow = {
    from: new Date('2025-03-10T00:00:00Z'),
    to: new Date('2025-03-12T00:00:00Z'),
  };

  const call = (runId: string, over: Partial<LlmCallInput>): LlmCallInput => ({
    runId,
    purpose: 'generate',
    provider: 'primary',
    model: 'gpt-big',
    inputTokens: 1_000,
    outputTokens: 100,
    costUsd: 0,
    priced: true,
    latencyMs: 10,
    outcome: 'ok',
    ...over,
  });

  async function plannedRun(
    tenantId: string,
    source: PlanInput['source'],
    steps: StepSpec[],
    planCalls: Array<Partial<LlmCallInput>> = [],
  ): Promise<string> {
    const text = `${source} work for ${tenantId} at ${now.toISOString()}`;
    const { run } = await repos.runs.create(
      runInput({ tenantId, intent: intent({ tenantId, text }) }),
    );
    const plan = Plan.parse({
      source,
      producedBy: 'test',
      summary: text,
      steps: steps.map(([id, tool, risk]) => ({ id, tool, risk, input: {} })),
    });
    const order = topologicalOrder(plan.steps) ?? [];
    const llmCalls = planCalls.map((c) => call(run.id, { purpose: 'plan', ...c }));
    await repos.runs.savePlan(run.id, { plan, order, hash: run.id, llmCalls }, 'running');
    return run.id;
  }

  /** One attempt of a step: its model calls and tool charge, then success or a retryable failure. */
  async function attempt(
    runId: string,
    stepId: string,
    n: number,
    spend: { tool?: [string, number]; calls?: Array<Partial<LlmCallInput>> },
    outcome: 'succeeded' | 'failed',
  ): Promise<void> {
    const claim = await repos.steps.startAttempt(runId, stepId, {
      attempt: n,
      jobId: `${stepId}-${n}`,
      worker: 'w',
    });
    if (claim.kind !== 'run') throw new Error(`expected ${stepId} to run: ${claim.reason}`);
    await repos.llmCalls.record((spend.calls ?? []).map((c) => call(runId, { stepId, ...c })));
    if (spend.tool) {
      const [tool, costUsd] = spend.tool;
      await repos.costs.chargeTool({ runId, stepId, attemptId: claim.attemptId, tool, costUsd });
    }
    if (outcome === 'succeeded') await repos.steps.complete(runId, stepId, claim.attemptId, {});
    else {
      const error = { code: 'TRANSIENT' as const, message: 'flaky', retryable: true };
      await repos.steps.fail(runId, stepId, claim.attemptId, error, { final: false });
    }
  }

  let acmeRun = '';
  beforeAll(async () => {
    t = await createTestDatabase();
    repos = createRepositories(t.db, { clock: () => now });

    at('2025-03-09T23:59:59.999Z'); // just before the window
    await plannedRun('acme', 'llm', [['a', 'echo', 'low']], [{ costUsd: 1 }]);

    at('2025-03-10T23:30:00Z'); // late on the first day, in UTC
    acmeRun = await plannedRun(
      'acme',
      'llm',
      [
        ['gen', 'llm.generate', 'low'],
        ['fetch', 'http.request', 'medium'],
      ],
      [{ costUsd: 0.02, outcome: 'invalid' }, { costUsd: 0.03 }],
    );
    await attempt(acmeRun, 'gen', 1, { calls: [{ costUsd: 0.01 }] }, 'succeeded');
    await attempt(acmeRun, 'fetch', 1, { tool: ['http.request', 0.005] }, 'failed');
    await attempt(acmeRun, 'fetch', 2, { tool: ['http.request', 0.005] }, 'succeeded');

    at('2025-03-11T10:00:00Z');
    const globexRun = await plannedRun('globex', 'template', [
      ['gen', 'llm.generate', 'low'],
      ['write', 'llm.generate', 'high'],
      ['fetch', 'http.request', 'medium'],
    ]);
    const small = { model: 'gpt-small', provider: 'secondary', costUsd: 0.001, priced: false };
    await attempt(globexRun, 'gen', 1, { calls: [small] }, 'succeeded');
    await attempt(globexRun, 'write', 1, { calls: [{ costUsd: 0.004 }] }, 'succeeded');
    await attempt(globexRun, 'fetch', 1, { tool: ['http.request', 0.002] }, 'succeeded');

    at('2025-03-12T00:00:00Z'); // the window's end is exclusive
    await plannedRun('acme', 'llm', [['a', 'echo', 'low']], [{ costUsd: 2 }]);
  });
  afterAll(async () => {
    await t.close();
  });

  it('totals the window and each tenant, leaving out what falls outside', async () => {
    const totals = await repos.costReport.totals(window);
    expect(totals).toMatchObject({ llmUsd: 0.065, toolUsd: 0.012, llmCalls: 5, toolCharges: 3 });
    expect(totals).toMatchObject({ runs: 2 });
    expect(totals.totalUsd).toBeCloseTo(0.077, 9);

    const byTenant = await repos.costReport.byTenant(window);
    expect(byTenant.map((r) => [r.tenantId, r.llmUsd, r.toolUsd, r.runs])).toEqual([
      ['acme', 0.06, 0.01, 1],
      ['globex', 0.005, 0.002, 1],
    ]);
    const globex = await repos.costReport.totals({ ...window, tenantId: 'globex' });
    expect(globex).toMatchObject({ llmUsd: 0.005, toolUsd: 0.002, llmCalls: 2, toolCharges: 1 });
  });

  it('splits spend by model, by tool (model calls counted to their step’s tool) and by UTC day', async () => {
    expect(await repos.costReport.byModel(window)).toEqual([
      {
        provider: 'primary',
        model: 'gpt-big',
        calls: 4,
        unpricedCalls: 0,
        inputTokens: 4_000,
        outputTokens: 400,
        costUsd: 0.064,
      },
      {
        provider: 'secondary',
        model: 'gpt-small',
        calls: 1,
        unpricedCalls: 1,
        inputTokens: 1_000,
        outputTokens: 100,
        costUsd: 0.001,
      },
    ]);
    const byTool = await repos.costReport.byTool(window);
    expect(byTool.map((r) => [r.tool, r.charges, r.chargesUsd, r.llmCalls, r.llmUsd])).toEqual([
      ['llm.generate', 0, 0, 3, 0.015],
      ['http.request', 3, 0.012, 0, 0],
    ]);
    const byDay = await repos.costReport.byDay(window);
    expect(byDay.map((r) => [r.day, r.llmUsd, r.toolUsd])).toEqual([
      ['2025-03-10', 0.06, 0.01],
      ['2025-03-11', 0.005, 0.002],
    ]);
  });

  it('answers what the suggestions are made of', async () => {
    const intents = await repos.costReport.llmPlannedIntents(window);
    expect(intents).toEqual([
      {
        runId: acmeRun,
        tenantId: 'acme',
        text: 'llm work for acme at 2025-03-10T23:30:00.000Z',
        templateMatch: null,
        planningUsd: 0.05,
        plannedAt: new Date('2025-03-10T23:30:00Z'),
      },
    ]);
    const lowRisk = await repos.costReport.lowRiskGenerate(window);
    expect(lowRisk.map((r) => [r.model, r.calls, r.steps, r.inputTokens, r.costUsd])).toEqual([
      ['gpt-big', 1, 1, 1_000, 0.01],
      ['gpt-small', 1, 1, 1_000, 0.001],
    ]);
    expect(await repos.costReport.retryCosts(window)).toEqual([
      { source: 'llm', name: 'gpt-big', provider: 'primary', retries: 1, costUsd: 0.02 },
      { source: 'tool', name: 'http.request', provider: null, retries: 1, costUsd: 0.005 },
    ]);
  });

  it('a tenant filter keeps the suggestion data to that tenant', async () => {
    const globex = { ...window, tenantId: 'globex' };
    expect(await repos.costReport.llmPlannedIntents(globex)).toEqual([]);
    expect(await repos.costReport.retryCosts(globex)).toEqual([]);
    expect((await repos.costReport.lowRiskGenerate(globex)).map((r) => r.model)).toEqual([
      'gpt-small',
    ]);
    expect(await repos.costReport.byTenant({ ...window, tenantId: 'nobody' })).toEqual([]);
    expect(await repos.costReport.totals({ ...window, tenantId: 'nobody' })).toEqual({
      llmUsd: 0,
      toolUsd: 0,
      totalUsd: 0,
      llmCalls: 0,
      toolCharges: 0,
      runs: 0,
    });
  });

  it('reads the database size', async () => {
    expect(await repos.costReport.databaseBytes()).toBeGreaterThan(1_000_000);
  });
});

describe('cost report repository (PGlite)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentry-cost-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the database size and runs the ledger queries on the embedded database', async () => {
    await using database = await openDatabase({ dataDir: join(dir, 'pgdata') });
    await migrateToLatest(database.db);
    const repos = createRepositories(database.db);
    const { run } = await repos.runs.create(runInput());
    await repos.llmCalls.record([
      { ...callOf(run.id), costUsd: 0.25 },
      { ...callOf(run.id), costUsd: 0.5 },
    ]);
    const all = { from: new Date(0), to: new Date(Date.now() + 60_000) };
    expect(await repos.costReport.databaseBytes()).toBeGreaterThan(1_000_000);
    expect(await repos.costReport.totals(all)).toEqual({
      llmUsd: 0.75,
      toolUsd: 0,
      totalUsd: 0.75,
      llmCalls: 2,
      toolCharges: 0,
      runs: 1,
    });
    expect((await repos.costReport.byDay(all)).map((d) => d.totalUsd)).toEqual([0.75]);
  });
});

const callOf = (runId: string): LlmCallInput => ({
  runId,
  purpose: 'plan',
  provider: 'primary',
  model: 'm',
  inputTokens: 1,
  outputTokens: 1,
  costUsd: 0,
  priced: true,
  latencyMs: 1,
  outcome: 'ok',
});
