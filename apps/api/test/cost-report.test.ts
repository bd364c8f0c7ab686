import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CostReport } from '@agentry/engine';
import { Plan, queueNames } from '@agentry/schema';
import { TestApi, redisUrl } from './support/test-api';

interface ErrorAnswer {
  error: { code: string; message: string };
}

/**
 * `GET /v1/costs/report` on the real API: spend written through the real repositories, a real
 * BullMQ worker on the plan queue to be counted, a price table file and unit prices from the env.
 */
describe('GET /v1/costs/report', () => {
  let api: TestApi;
  let dir = '';
  const tenantId = `cost-${randomUUID().slice(0, 8)}`;

  /** An LLM-planned run of `tenantId` with one low-risk `llm.generate` step on gpt-big. */
  async function seedRun(): Promise<void> {
    const { repos } = api.services;
    const id = randomUUID();
    const intent = { text: 'deploy build 9 to staging', tenantId, dryRun: false, metadata: {} };
    await repos.runs.create({ id, tenantId, correlationId: id, dryRun: false, intent });
    const plan = Plan.parse({
      source: 'llm',
      producedBy: 'llm:primary:gpt-big',
      summary: 'generate',
      steps: [{ id: 'gen', tool: 'llm.generate', input: {} }],
    });
    const call = {
      runId: id,
      provider: 'primary',
      model: 'gpt-big',
      priced: true,
      latencyMs: 5,
      outcome: 'ok' as const,
    };
    const planCall = { ...call, purpose: 'plan' as const, inputTokens: 1, outputTokens: 1 };
    const llmCalls = [{ ...planCall, costUsd: 0.03 }];
    await repos.runs.savePlan(id, { plan, order: ['gen'], hash: id, llmCalls }, 'running');
    const claim = await repos.steps.startAttempt(id, 'gen', {
      attempt: 1,
      jobId: 'j',
      worker: 'w',
    });
    if (claim.kind !== 'run') throw new Error('gen did not start');
    const generate = { inputTokens: 100_000, outputTokens: 10_000, costUsd: 1.3 };
    await repos.llmCalls.record([{ ...call, ...generate, purpose: 'generate', stepId: 'gen' }]);
    await repos.steps.complete(id, 'gen', claim.attemptId, {});
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentry-prices-'));
    const pricesFile = join(dir, 'prices.json');
    const models = {
      'gpt-big': { inputPerMTok: 10, outputPerMTok: 30 },
      'gpt-small': { inputPerMTok: 0.5, outputPerMTok: 1.5 },
    };
    await writeFile(pricesFile, JSON.stringify({ models }));
    api = await TestApi.start({
      AGENTRY_LLM_PRICES_FILE: pricesFile,
      AGENTRY_COST_WORKER_HOUR_USD: '0.5',
      AGENTRY_COST_DATABASE_GB_MONTH_USD: '0.2',
    });
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const worker = new Worker(queueNames.plan, async () => undefined, {
      connection,
      prefix: api.prefix,
    });
    api.onClose(async () => {
      await worker.close();
      await connection.quit();
    });
    await worker.waitUntilReady();
    await seedRun();
  });
  afterAll(async () => {
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the spend, the fleet estimate from the configured unit prices and the suggestions', async () => {
    const { status, body } = await api.http<CostReport>('GET', '/v1/costs/report?days=7');
    expect(status).toBe(200);
    expect(body.window).toMatchObject({ days: 7, tenantId: null });
    expect(Date.parse(body.window.to) - Date.parse(body.window.from)).toBe(7 * 86_400_000);
    expect(body.totals).toMatchObject({ llmUsd: 1.33, toolUsd: 0, llmCalls: 2, runs: 1 });
    expect(body.byTenant).toEqual([expect.objectContaining({ tenantId, totalUsd: 1.33 })]);
    expect(body.byTool).toEqual([expect.objectContaining({ tool: 'llm.generate', llmUsd: 1.3 })]);
    expect(body.byDay).toHaveLength(8); // a window not starting at midnight touches 8 UTC days
    expect(body.fleet).toMatchObject({ workers: 1, workerHourUsd: 0.5, computeMonthUsd: 365 });
    expect(body.fleet.databaseMonthUsd).toBeCloseTo(
      ((body.fleet.databaseBytes ?? 0) / 2 ** 30) * 0.2,
      6,
    );
    expect(body.suggestions.map((s) => [s.kind, s.evidence['cheaperModel']])).toEqual([
      ['cheaper-model', 'gpt-small'],
    ]);
    expect(body.notes).toEqual([]);
  });

  it('scopes to one tenant', async () => {
    const other = await api.http<CostReport>('GET', '/v1/costs/report?tenantId=someone-else');
    expect(other.status).toBe(200);
    expect(other.body.totals).toMatchObject({ totalUsd: 0, runs: 0 });
    expect(other.body.window).toMatchObject({ days: 30, tenantId: 'someone-else' });
    const own = await api.http<CostReport>('GET', `/v1/costs/report?tenantId=${tenantId}`);
    expect(own.body.totals.totalUsd).toBe(1.33);
  });

  it('answers 400 VALIDATION for a bad query', async () => {
    const bad = [
      'days=0',
      'days=400',
      'from=yesterday',
      'from=2025-03-01&days=3',
      'from=2025-03-02&to=2025-03-01',
      'from=2024-01-01&to=2025-03-01',
      'tenant=acme',
    ];
    for (const query of bad) {
      const answer = await api.http<ErrorAnswer>('GET', `/v1/costs/report?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.body.error.code, query).toBe('VALIDATION');
    }
    const dated = await api.http<CostReport>(
      'GET',
      '/v1/costs/report?from=2025-03-01&to=2025-03-08',
    );
    expect(dated.status).toBe(200);
    expect(dated.body.window).toMatchObject({
      from: '2025-03-01T00:00:00.000Z',
      to: '2025-03-08T00:00:00.000Z',
      days: 7,
    });
    expect(dated.body.totals.totalUsd).toBe(0);
  });
});

describe('GET /v1/costs/report with Redis down', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start({ AGENTRY_REDIS_URL: 'redis://127.0.0.1:1' });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('still answers the spend, fast, with compute left out and noted', async () => {
    const started = Date.now();
    const { status, body } = await api.http<CostReport>('GET', '/v1/costs/report');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(status).toBe(200);
    expect(body.fleet).toMatchObject({ workers: null, computeMonthUsd: null });
    expect(body.fleet.totalMonthUsd).toBeCloseTo(
      (body.fleet.databaseMonthUsd ?? 0) + body.fleet.llmMonthUsd,
      6,
    );
    expect(body.notes).toContain(
      'the workers could not be counted: compute is left out of the fleet total',
    );
  });
});
