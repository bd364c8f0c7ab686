import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { budgetPeriod, createRepositories, type Repositories } from '../src';
import { createTestDatabase, type TestDatabase } from '../src/testing';
import { intent, runInput } from './fixtures';

const march = new Date('2031-03-15T12:00:00Z');
const april = new Date('2031-04-01T00:00:00Z');

describe('tenant budgets and their alerts (Postgres)', () => {
  let t: TestDatabase;
  let repos: Repositories;
  let now: Date;
  let tenant: string;
  beforeAll(async () => {
    t = await createTestDatabase({ poolMax: 8 });
    repos = createRepositories(t.db, { clock: () => now });
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(() => {
    now = march;
    tenant = `t-${randomBytes(4).toString('hex')}`;
  });

  /** One priced model call of `usd` on a new run of `tenantId`, at the test clock. */
  const spend = async (usd: number, tenantId = tenant) => {
    const { run } = await repos.runs.create(runInput({ tenantId, intent: intent({ tenantId }) }));
    await repos.llmCalls.record([
      {
        runId: run.id,
        purpose: 'plan',
        provider: 'primary',
        model: 'gpt-test',
        inputTokens: 10,
        outputTokens: 10,
        costUsd: usd,
        priced: true,
        latencyMs: 5,
        outcome: 'ok',
      },
    ]);
  };
  const crossed = async (tenantId = tenant) =>
    (await repos.budgets.alerts({ tenantId })).map((a) => [a.period, a.thresholdPct, a.spentUsd]);

  it('records each threshold once, also when one call jumps over two', async () => {
    await repos.budgets.set(tenant, { monthlyUsd: 10, actor: 'ops' });
    await spend(4);
    expect(await crossed()).toEqual([]);
    await spend(1.5);
    expect(await crossed()).toEqual([['2031-03-01', 50, 5.5]]);
    await spend(5);
    await spend(1);
    expect(await crossed()).toEqual([
      ['2031-03-01', 50, 5.5],
      ['2031-03-01', 80, 10.5],
      ['2031-03-01', 100, 10.5],
    ]);
    const alert = (await repos.budgets.alerts({ tenantId: tenant }))[0];
    expect(alert).toMatchObject({ budgetUsd: 10, crossedAt: march, announcedAt: null });
    expect(await repos.budgets.get(tenant)).toMatchObject({
      period: '2031-03-01',
      spentUsd: 11.5,
      spentPct: 115,
      thresholds: [50, 80, 100],
      updatedBy: 'ops',
    });
  });

  it('records each threshold once when many costs are recorded at once', async () => {
    await repos.budgets.set(tenant, { monthlyUsd: 10, actor: 'ops' });
    await Promise.all(Array.from({ length: 12 }, () => spend(1)));
    expect(await crossed()).toEqual([
      ['2031-03-01', 50, 5],
      ['2031-03-01', 80, 8],
      ['2031-03-01', 100, 10],
    ]);
  });

  it('hands each unannounced alert to exactly one of many concurrent claimers', async () => {
    const tenants = Array.from({ length: 8 }, (_, i) => `${tenant}-${i}`);
    for (const id of tenants) {
      await repos.budgets.set(id, { monthlyUsd: 1, actor: 'ops' });
      await spend(2, id);
    }
    const claims = await Promise.all(
      Array.from({ length: 6 }, () => repos.budgets.claimUnannounced(100)),
    );
    const ids = claims
      .flat()
      .filter((a) => a.tenantId.startsWith(tenant))
      .map((a) => a.id);
    expect(ids).toHaveLength(24);
    expect(new Set(ids).size).toBe(24);
    expect(claims.flat().every((a) => a.announcedAt?.getTime() === march.getTime())).toBe(true);
    expect(await repos.budgets.claimUnannounced()).toEqual([]);
  });

  it('records at set time what a budget set or lowered mid-month has already reached', async () => {
    await spend(60);
    expect(await crossed()).toEqual([]);
    const set = await repos.budgets.set(tenant, { monthlyUsd: 100, actor: 'ops' });
    expect(set).toMatchObject({ monthlyUsd: 100, spentUsd: 60, spentPct: 60 });
    expect(await crossed()).toEqual([['2031-03-01', 50, 60]]);

    await repos.budgets.set(tenant, { monthlyUsd: 70, thresholds: [90, 80, 80], actor: 'ops' });
    expect(await crossed()).toEqual([
      ['2031-03-01', 50, 60],
      ['2031-03-01', 80, 60],
    ]);
    expect((await repos.budgets.get(tenant))?.thresholds).toEqual([80, 90]);
  });

  it('never alerts a threshold twice in a month, even after the budget is raised', async () => {
    await repos.budgets.set(tenant, { monthlyUsd: 10, actor: 'ops' });
    await spend(6);
    await repos.budgets.set(tenant, { monthlyUsd: 100, actor: 'ops' });
    await spend(50);
    expect(await crossed()).toEqual([['2031-03-01', 50, 6]]);
    await spend(30);
    expect((await crossed()).map(([, pct]) => pct)).toEqual([50, 80]);
  });

  it('keeps months apart: spend and alerts start again on the first day (UTC)', async () => {
    await repos.budgets.set(tenant, { monthlyUsd: 10, actor: 'ops' });
    await spend(6);
    now = new Date('2031-03-31T23:59:59Z');
    await spend(3);
    now = april;
    expect(budgetPeriod(now)).toBe('2031-04-01');
    expect(await repos.budgets.get(tenant)).toMatchObject({ period: '2031-04-01', spentUsd: 0 });
    await spend(6);
    expect(await crossed()).toEqual([
      ['2031-04-01', 50, 6],
      ['2031-03-01', 50, 6],
      ['2031-03-01', 80, 9],
    ]);
    expect(await repos.budgets.alerts({ tenantId: tenant, period: '2031-03-01' })).toHaveLength(2);
  });

  it('lists budgets with this month’s spend and removes one, keeping its alerts', async () => {
    const other = `${tenant}-b`;
    await repos.budgets.set(tenant, { monthlyUsd: 8, actor: 'ops' });
    await repos.budgets.set(other, { monthlyUsd: 20, thresholds: [75], actor: 'ops' });
    await spend(5, other);
    const listed = (await repos.budgets.list()).filter((b) => b.tenantId.startsWith(tenant));
    expect(listed.map((b) => [b.tenantId, b.monthlyUsd, b.spentUsd, b.spentPct])).toEqual([
      [tenant, 8, 0, 0],
      [other, 20, 5, 25],
    ]);
    await spend(16, other);
    expect(await repos.budgets.remove(other)).toBe(true);
    expect(await repos.budgets.remove(other)).toBe(false);
    expect(await repos.budgets.get(other)).toBeUndefined();
    expect(await crossed(other)).toEqual([['2031-03-01', 75, 21]]);
    await spend(50, other);
    expect(await crossed(other)).toHaveLength(1);
  });

  it('refuses a budget not above zero and thresholds outside whole 1..1000', async () => {
    const bad = [
      { monthlyUsd: 0 },
      { monthlyUsd: Number.NaN },
      { monthlyUsd: 5, thresholds: [] },
      { monthlyUsd: 5, thresholds: [0] },
      { monthlyUsd: 5, thresholds: [1001] },
      { monthlyUsd: 5, thresholds: [12.5] },
    ];
    for (const input of bad) {
      await expect(repos.budgets.set(tenant, { ...input, actor: 'ops' })).rejects.toMatchObject({
        code: 'VALIDATION',
      });
    }
    expect(await repos.budgets.get(tenant)).toBeUndefined();
  });

  it('tracks deliveries: failures count up to the bound, a delivery ends the retries', async () => {
    await repos.budgets.set(tenant, { monthlyUsd: 10, thresholds: [10, 20], actor: 'ops' });
    await spend(1);
    const pending = () =>
      repos.budgets
        .undelivered({ maxAttempts: 2 })
        .then((rows) => rows.filter((a) => a.tenantId === tenant));
    expect(await pending()).toEqual([]);
    const mine = async () =>
      (await repos.budgets.claimUnannounced()).filter((a) => a.tenantId === tenant);
    const [alert] = await mine();
    const id = alert?.id ?? '';
    expect(await pending()).toEqual([expect.objectContaining({ id, thresholdPct: 10 })]);
    expect(
      await repos.budgets.undelivered({ maxAttempts: 2, announcedBefore: march }),
    ).not.toContainEqual(expect.objectContaining({ id }));

    expect(await repos.budgets.markDeliveryFailed(id, `HTTP 500 ${'x'.repeat(900)}`)).toBe(1);
    expect((await pending())[0]).toMatchObject({ deliveryAttempts: 1 });
    expect((await pending())[0]?.lastError).toHaveLength(500);
    expect(await repos.budgets.markDeliveryFailed(id, 'HTTP 502')).toBe(2);
    expect(await pending()).toEqual([]);

    await spend(1);
    const [second] = await mine();
    expect(await repos.budgets.markDelivered(second?.id ?? '')).toBe(true);
    expect(await repos.budgets.markDelivered(second?.id ?? '')).toBe(false);
    expect(await repos.budgets.markDeliveryFailed(second?.id ?? '', 'late')).toBe(0);
    expect(await repos.budgets.markDelivered('not-an-id')).toBe(false);
    const delivered = (await repos.budgets.alerts({ tenantId: tenant })).find(
      (a) => a.thresholdPct === 20,
    );
    expect(delivered).toMatchObject({ deliveredAt: march, lastError: null, deliveryAttempts: 0 });
  });
});
