import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepositories, type LlmCallInput, type Repositories } from '@agentry/db';
import { createTestDatabase, type TestDatabase } from '@agentry/db/testing';
import { Plan, topologicalOrder, type RiskLevel } from '@agentry/schema';
import { buildCostReport, type CostReportOptions } from '../src';

const prices = {
  models: {
    'gpt-big': { inputPerMTok: 10, outputPerMTok: 30 },
    'gpt-mid': { inputPerMTok: 2, outputPerMTok: 6 },
    'gpt-small': { inputPerMTok: 0.5, outputPerMTok: 1.5 },
  },
};
const unitPrices = { workerHourUsd: 0.0416, databaseGbMonthUsd: 0.115 };
const now = new Date('2025-03-20T12:00:00Z');
const options = (over: Partial<CostReportOptions> = {}): CostReportOptions => ({
  window: { from: new Date('2025-03-06T12:00:00Z'), to: now },
  prices,
  unitPrices,
  workers: 3,
  ...over,
});

/** Runs of two tenants written through the real repositories, each at its own clock time. */
describe('buildCostReport (Postgres)', () => {
  let t: TestDatabase;
  let repos: Repositories;
  let clock = now;

  const call = (runId: string, over: Partial<LlmCallInput>): LlmCallInput => ({
    runId,
    purpose: 'plan',
    provider: 'primary',
    model: 'gpt-big',
    inputTokens: 1_000,
    outputTokens: 100,
    costUsd: 0,
    priced: true,
    latencyMs: 5,
    outcome: 'ok',
    ...over,
  });

  async function llmPlannedRun(
    at: string,
    tenantId: string,
    text: string,
    steps: Array<[string, string, RiskLevel]>,
    planCalls: Array<Partial<LlmCallInput>>,
  ): Promise<string> {
    clock = new Date(at);
    const id = randomUUID();
    const intent = { text, tenantId, dryRun: false, metadata: {} };
    await repos.runs.create({ id, tenantId, correlationId: id, dryRun: false, intent });
    const plan = Plan.parse({
      source: 'llm',
      producedBy: 'llm:primary:gpt-big',
      summary: text,
      steps: steps.map(([stepId, tool, risk]) => ({ id: stepId, tool, risk, input: {} })),
    });
    const order = topologicalOrder(plan.steps) ?? [];
    const llmCalls = planCalls.map((c) => call(id, c));
    // As the planner records it: a template matched the intent a model planned.
    const planning = {
      hops: [{ planner: 'llm:primary:gpt-big', outcome: 'planned' as const, durationMs: 5 }],
      ...(/\bdeploy\b/.test(text) ? { templateMatch: 'deploy' } : {}),
    };
    await repos.runs.savePlan(id, { plan, order, hash: id, llmCalls, planning }, 'running');
    return id;
  }

  async function attempt(
    runId: string,
    stepId: string,
    n: number,
    spend: { charge?: [string, number]; generate?: Partial<LlmCallInput> },
    outcome: 'succeeded' | 'failed',
  ): Promise<void> {
    const claim = await repos.steps.startAttempt(runId, stepId, {
      attempt: n,
      jobId: `${runId}.${stepId}.${n}`,
      worker: 'w',
    });
    if (claim.kind !== 'run') throw new Error(`${stepId} did not start: ${claim.reason}`);
    if (spend.generate) {
      await repos.llmCalls.record([
        call(runId, { purpose: 'generate', stepId, ...spend.generate }),
      ]);
    }
    if (spend.charge) {
      const [tool, costUsd] = spend.charge;
      await repos.costs.chargeTool({ runId, stepId, attemptId: claim.attemptId, tool, costUsd });
    }
    if (outcome === 'succeeded') await repos.steps.complete(runId, stepId, claim.attemptId, {});
    else {
      const error = { code: 'TRANSIENT' as const, message: 'flaky', retryable: true };
      await repos.steps.fail(runId, stepId, claim.attemptId, error, { final: false });
    }
  }

  beforeAll(async () => {
    t = await createTestDatabase({ prefix: 't_eng' });
    repos = createRepositories(t.db, { clock: () => clock });
    // This month, before the window: month to date only.
    await llmPlannedRun(
      '2025-03-02T10:00:00Z',
      'acme',
      'deploy build 7 to staging',
      [['a', 'echo', 'low']],
      [{ costUsd: 0.1 }],
    );
    const deploy = await llmPlannedRun(
      '2025-03-15T10:00:00Z',
      'acme',
      'deploy build 812 to staging',
      [['gen', 'llm.generate', 'low']],
      [{ costUsd: 0.02, outcome: 'invalid' }, { costUsd: 0.03 }],
    );
    const generate = { inputTokens: 100_000, outputTokens: 10_000, costUsd: 1.3 };
    await attempt(deploy, 'gen', 1, { generate }, 'succeeded');
    const joke = await llmPlannedRun(
      '2025-03-18T10:00:00Z',
      'globex',
      'tell me a joke',
      [
        ['fetch', 'http.request', 'medium'],
        ['notify', 'webhook.notify', 'low'],
      ],
      [{ costUsd: 0.04 }],
    );
    await attempt(joke, 'fetch', 1, { charge: ['http.request', 0.02] }, 'failed');
    await attempt(joke, 'fetch', 2, { charge: ['http.request', 0.02] }, 'succeeded');
    await attempt(joke, 'notify', 1, { charge: ['webhook.notify', 0.005] }, 'failed');
  });
  afterAll(async () => {
    await t.close();
  });

  it('projects the month from month to date and the last 7 days of the window', async () => {
    const report = await buildCostReport(
      { costReport: repos.costReport, clock: () => now },
      options(),
    );
    expect(report.totals).toMatchObject({ llmUsd: 1.39, toolUsd: 0.045, totalUsd: 1.435 });
    expect(report.byDay).toHaveLength(15);
    expect(report.byDay.filter((d) => d.totalUsd > 0)).toEqual([
      { day: '2025-03-15', llmUsd: 1.35, toolUsd: 0, totalUsd: 1.35 },
      { day: '2025-03-18', llmUsd: 0.04, toolUsd: 0.045, totalUsd: 0.085 },
    ]);
    // 1.435 over the 7 days from 03-13T12:00; 11.5 days left in March after now.
    expect(report.projection).toEqual({
      month: '2025-03',
      monthToDateUsd: 1.535,
      dailyAverageUsd: 0.205,
      averageFrom: '2025-03-13T12:00:00.000Z',
      averageTo: '2025-03-20T12:00:00.000Z',
      averageDays: 7,
      remainingDays: 11.5,
      projectedMonthUsd: 3.8925,
    });
    const { fleet } = report;
    expect(fleet.computeMonthUsd).toBeCloseTo(3 * 730 * 0.0416, 6);
    expect(fleet.databaseBytes).toBeGreaterThan(0);
    expect(fleet.databaseMonthUsd).toBeCloseTo(((fleet.databaseBytes ?? 0) / 2 ** 30) * 0.115, 6);
    expect(fleet.llmMonthUsd).toBe(3.8925);
    expect(fleet.totalMonthUsd).toBeCloseTo(91.104 + (fleet.databaseMonthUsd ?? 0) + 3.8925, 6);
  });

  it('suggests a template, a cheaper model and fewer retries, with the numbers', async () => {
    const report = await buildCostReport(
      { costReport: repos.costReport, clock: () => now },
      options(),
    );
    const month = 730 / 24 / 14; // the window's 14 days scaled to a month
    expect(report.suggestions.map((s) => [s.kind, s.estimatedMonthlySavingUsd])).toEqual([
      ['cheaper-model', roundUsd((1.3 - 0.065) * month)],
      ['template-match', roundUsd(0.05 * month)],
      ['retry-waste', roundUsd(0.02 * month)],
      ['retry-waste', roundUsd(0.02 * month)],
    ]);
    const [cheaper, template, ...retries] = report.suggestions;
    expect(cheaper?.message).toMatch(
      /^1 llm.generate call of 1 low-risk step used gpt-big \(primary\) for \$1\.30; the same tokens on gpt-small would cost \$0\.0650/,
    );
    expect(cheaper?.evidence).toMatchObject({ cheaperModel: 'gpt-small', cheaperCostUsd: 0.065 });
    expect(template?.message).toMatch(
      /^1 run was planned by a model although the template "deploy"/,
    );
    expect(template?.message).toContain('"deploy build 812 to staging"');
    expect(template?.message).toContain('cost $0.0500 in this window');
    expect(template?.evidence).toMatchObject({ templateId: 'deploy', runs: 1, planningUsd: 0.05 });
    // The failed webhook.notify attempt ($0.005) stays under the $0.01 threshold.
    expect(retries.map((s) => s.message).sort()).toEqual([
      expect.stringMatching(/^1 failed or cancelled attempt of http\.request cost \$0\.0200/),
      expect.stringMatching(/^1 plan from gpt-big \(primary\) failed validation and was repaired/),
    ]);
  });

  it('scopes to a tenant, but prices the fleet on everyone’s spend', async () => {
    const all = await buildCostReport(
      { costReport: repos.costReport, clock: () => now },
      options(),
    );
    const window = { ...options().window, tenantId: 'globex' };
    const globex = await buildCostReport(
      { costReport: repos.costReport, clock: () => now },
      options({ window, retryWasteThresholdUsd: 0.001 }),
    );
    expect(globex.byTenant.map((r) => r.tenantId)).toEqual(['globex']);
    expect(globex.projection.monthToDateUsd).toBe(0.085);
    expect(globex.fleet.llmMonthUsd).toBe(all.projection.projectedMonthUsd);
    expect(globex.suggestions.map((s) => [s.kind, s.evidence['name']])).toEqual([
      ['retry-waste', 'http.request'],
      ['retry-waste', 'webhook.notify'],
    ]);
  });

  it('a window that has not begun has no average: the projection is the month to date', async () => {
    const later = { from: new Date('2025-03-21T00:00:00Z'), to: new Date('2025-03-22T00:00:00Z') };
    const report = await buildCostReport(
      { costReport: repos.costReport, clock: () => now },
      options({ window: later }),
    );
    expect(report.projection).toMatchObject({ averageDays: 0, dailyAverageUsd: 0 });
    expect(report.projection.projectedMonthUsd).toBe(report.projection.monthToDateUsd);
    expect(report.byDay).toEqual([{ day: '2025-03-21', llmUsd: 0, toolUsd: 0, totalUsd: 0 }]);
    expect(report.suggestions).toEqual([]);
  });

  it('notes what it leaves out: an empty price table', async () => {
    const full = await buildCostReport(
      { costReport: repos.costReport, clock: () => now },
      options(),
    );
    expect(full.notes).toEqual([]);
    const bare = await buildCostReport(
      { costReport: repos.costReport, clock: () => now },
      options({ prices: { models: {} } }),
    );
    expect(bare.notes).toEqual([
      'the price table is empty: cheaper-model suggestions are left out',
    ]);
    expect(bare.suggestions.map((s) => s.kind).sort()).toEqual([
      'retry-waste',
      'retry-waste',
      'template-match',
    ]);
  });
});

const roundUsd = (usd: number) => Math.round(usd * 1e6) / 1e6;
