import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { budgetPeriod } from '@agentry/db';
import { recordSpend } from '@agentry/db/testing';
import { TestApi } from './support/test-api';

interface Budget {
  tenantId: string;
  monthlyUsd: number;
  thresholds: number[];
  spentUsd: number;
  spentPct: number;
  period: string;
  updatedBy: string;
}
interface Alert {
  tenantId: string;
  period: string;
  thresholdPct: number;
  spentUsd: number;
  budgetUsd: number;
}
interface Failure {
  error: { code: string; message: string };
}

/** Tenant budgets over HTTP, on the real API, Postgres and trigger. */
describe('/v1 budgets and budget alerts', () => {
  let api: TestApi;
  let tenant: string;
  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(async () => {
    await api?.close();
  });
  beforeEach(() => {
    tenant = `t-${randomBytes(4).toString('hex')}`;
  });

  const path = (tenantId = tenant) => `/v1/tenants/${tenantId}/budget`;
  const spend = (usd: number) => recordSpend(api.services.repos, tenant, usd);

  const audit = () => api.services.repos.audit.list({ targetId: tenant });

  it('sets a budget (audited), shows it with month-to-date spend and lists it', async () => {
    await spend(3);
    const put = await api.http<Budget>('PUT', path(), {
      monthlyUsd: 12,
      actor: 'alice',
      reason: 'pilot',
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      tenantId: tenant,
      monthlyUsd: 12,
      thresholds: [50, 80, 100],
      spentUsd: 3,
      spentPct: 25,
      period: budgetPeriod(new Date()),
      updatedBy: 'alice',
    });
    await api.http('PUT', path(), { monthlyUsd: 20, thresholds: [90, 25] });
    expect((await audit()).map((a) => [a.actor, a.action, a.targetType, a.details])).toEqual([
      [
        'api',
        'budget.set',
        'tenant',
        {
          monthlyUsd: 20,
          thresholds: [25, 90],
          previous: { monthlyUsd: 12, thresholds: [50, 80, 100] },
        },
      ],
      [
        'alice',
        'budget.set',
        'tenant',
        { monthlyUsd: 12, thresholds: [50, 80, 100], previous: null, reason: 'pilot' },
      ],
    ]);

    const got = await api.http<Budget>('GET', path());
    expect(got.body).toMatchObject({ monthlyUsd: 20, thresholds: [25, 90], spentPct: 15 });
    const listed = await api.http<{ budgets: Budget[] }>('GET', '/v1/budgets');
    expect(listed.body.budgets.find((b) => b.tenantId === tenant)).toMatchObject({
      monthlyUsd: 20,
      spentUsd: 3,
    });
  });

  it('refuses bad budgets with 400 and the issues', async () => {
    const bad = [
      { monthlyUsd: 0 },
      { monthlyUsd: '10' },
      { monthlyUsd: 10, thresholds: [] },
      { monthlyUsd: 10, thresholds: [0] },
      { monthlyUsd: 10, thresholds: [1001] },
      { monthlyUsd: 10, thresholds: [50, 50] },
      { monthlyUsd: 10, extra: true },
    ];
    for (const body of bad) {
      const answer = await api.http<Failure>('PUT', path(), body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION');
    }
    expect((await api.http('PUT', path('Not A Tenant'), { monthlyUsd: 5 })).status).toBe(400);
    expect((await api.http('GET', path())).status).toBe(404);
  });

  it('answers 404 for a tenant without a budget; removes one (audited)', async () => {
    const missing = await api.http<Failure>('GET', path());
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({
      code: 'NOT_FOUND',
      message: `tenant ${tenant} has no budget`,
    });
    expect((await api.http('DELETE', path())).status).toBe(404);

    await api.http('PUT', path(), { monthlyUsd: 5 });
    const removed = await api.http('DELETE', `${path()}?actor=bob&reason=done`);
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ tenantId: tenant, removed: true });
    expect((await api.http('GET', path())).status).toBe(404);
    expect((await audit())[0]).toMatchObject({
      actor: 'bob',
      action: 'budget.remove',
      details: { previous: { monthlyUsd: 5, thresholds: [50, 80, 100] }, reason: 'done' },
    });
  });

  it('lists the alerts of a tenant and month; a lowered budget alerts at once', async () => {
    await api.http('PUT', path(), { monthlyUsd: 10 });
    await spend(6);
    await api.http('PUT', path(), { monthlyUsd: 7 });
    const month = budgetPeriod(new Date()).slice(0, 7);
    const listed = await api.http<{ alerts: Alert[] }>(
      'GET',
      `/v1/budget-alerts?tenantId=${tenant}&period=${month}`,
    );
    expect(listed.status).toBe(200);
    expect(listed.body.alerts.map((a) => [a.thresholdPct, a.budgetUsd, a.spentUsd])).toEqual([
      [50, 10, 6],
      [80, 7, 6],
    ]);
    const other = await api.http<{ alerts: Alert[] }>(
      'GET',
      `/v1/budget-alerts?tenantId=${tenant}&period=1999-01`,
    );
    expect(other.body.alerts).toEqual([]);
    expect((await api.http('GET', '/v1/budget-alerts?period=2025-13')).status).toBe(400);
  });
});
