import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRepositories, type Repositories } from '@agentry/db';
import { createTestDatabase, recordSpend, type TestDatabase } from '@agentry/db/testing';
import { BudgetMetrics, createLogger, createRegistry } from '@agentry/observability';
import { createBudgetAlerts, type BudgetAlertsOptions } from '../src';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';

describe('budget alerts: announce once, deliver to the webhook at least once', () => {
  let t: TestDatabase;
  let repos: Repositories;
  let receiver: WebhookReceiver;
  let registry: Registry;
  let lines: Array<Record<string, unknown>>;
  let tenant: string;
  const log = createLogger({
    component: 'budget-test',
    pretty: false,
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  const later = () => new Date(Date.now() + 60_000);

  beforeAll(async () => {
    t = await createTestDatabase({ prefix: 't_budget_alerts', poolMax: 6 });
    repos = createRepositories(t.db);
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await t?.close();
  });
  beforeEach(async () => {
    registry = createRegistry();
    lines = [];
    tenant = `t-${randomBytes(4).toString('hex')}`;
    receiver.received.length = 0;
    receiver.statuses.length = 0;
    await repos.budgets.set(tenant, { monthlyUsd: 10, actor: 'ops' });
  });
  afterEach(async () => {
    // What a test leaves pending must not be retried by the next one.
    const now = new Date();
    await t.db
      .updateTable('budgetAlerts')
      .set({ announcedAt: now, deliveredAt: now })
      .where('deliveredAt', 'is', null)
      .execute();
    const text = JSON.stringify(lines);
    expect(text).not.toContain('s3cr3tHookPath');
    expect(text).not.toContain('/services/');
  });

  const alerter = (over: Partial<BudgetAlertsOptions> = {}) =>
    createBudgetAlerts({
      repos,
      log,
      metrics: new BudgetMetrics(registry),
      webhook: { url: async () => receiver.url },
      ...over,
    });
  const spend = (usd: number) => recordSpend(repos, tenant, usd);

  const metric = async (name: string, labels: Record<string, string>) => {
    const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
    const match = values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return match?.value ?? 0;
  };
  const mine = () => receiver.received.filter((r) => r.body['tenantId'] === tenant);
  const alertsOf = () => repos.budgets.alerts({ tenantId: tenant });

  it('posts 50, 80 and 100 % exactly once each, from two alerters announcing at once', async () => {
    const [a, b] = [alerter(), alerter()];
    await spend(6);
    await spend(5);
    const announced = await Promise.all([a.announce(), b.announce(), a.announce()]);
    expect(announced.reduce((x, y) => x + y, 0)).toBe(3);
    expect(await b.announce()).toBe(0);
    expect(await a.deliverPending()).toBe(0);

    const posts = mine();
    expect(posts.map((p) => Number(p.body['thresholdPct'])).sort((x, y) => x - y)).toEqual([
      50, 80, 100,
    ]);
    const alerts = await alertsOf();
    for (const post of posts) {
      const alert = alerts.find((x) => x.id === post.body['alertId']);
      expect(post.headers['x-agentry-alert-id']).toBe(alert?.id);
      expect(post.headers['content-type']).toBe('application/json');
      expect(post.body).toEqual({
        type: 'budget.threshold',
        alertId: alert?.id,
        tenantId: tenant,
        period: alert?.period,
        thresholdPct: alert?.thresholdPct,
        budgetUsd: 10,
        spentUsd: alert?.thresholdPct === 50 ? 6 : 11,
        crossedAt: alert?.crossedAt.toISOString(),
      });
    }
    expect(alerts.every((x) => x.deliveredAt !== null && x.deliveryAttempts === 0)).toBe(true);

    const logged = lines.filter((l) => l['msg'] === 'tenant budget threshold crossed');
    expect(logged.map((l) => [l['level'], l['thresholdPct'], l['spentUsd']]).sort()).toEqual([
      ['warn', 100, 11],
      ['warn', 50, 6],
      ['warn', 80, 11],
    ]);
    expect(logged[0]).toMatchObject({ tenantId: tenant, budgetUsd: 10, period: alerts[0]?.period });
    for (const pct of ['50', '80', '100']) {
      expect(
        await metric('agentry_budget_threshold_crossings_total', { tenant, threshold: pct }),
      ).toBe(1);
    }
    expect(await metric('agentry_budget_alert_deliveries_total', { outcome: 'delivered' })).toBe(3);
  });

  it('retries a delivery the webhook refused (500) and delivers it on deliverPending', async () => {
    receiver.statuses.push(500);
    await spend(5);
    const retrying = alerter({ clock: later });
    expect(await retrying.announce()).toBe(1);
    expect((await alertsOf())[0]).toMatchObject({
      deliveredAt: null,
      deliveryAttempts: 1,
      lastError: 'HTTP 500',
    });
    expect(
      lines.find((l) => l['msg'] === 'budget alert delivery failed; will retry'),
    ).toMatchObject({
      level: 'warn',
      webhook: new URL(receiver.url).origin,
      attempts: 1,
    });
    expect(await alerter().deliverPending()).toBe(0); // announced just now: its first POST may be in flight
    expect(await retrying.deliverPending()).toBe(1);
    expect(await retrying.deliverPending()).toBe(0);

    const ids = mine().map((p) => p.headers['x-agentry-alert-id']);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(1);
    expect((await alertsOf())[0]).toMatchObject({ deliveryAttempts: 1, lastError: null });
    expect((await alertsOf())[0]?.deliveredAt).toBeInstanceOf(Date);
    expect(await metric('agentry_budget_alert_deliveries_total', { outcome: 'failed' })).toBe(1);
    expect(await metric('agentry_budget_alert_deliveries_total', { outcome: 'delivered' })).toBe(1);
  });

  it('gives up after maxDeliveryAttempts, logging it at error once', async () => {
    receiver.statuses.push(503, 0, 502, 500);
    await spend(5);
    const failing = alerter({
      clock: later,
      maxDeliveryAttempts: 3,
      webhook: { url: async () => receiver.url, timeoutMs: 300 },
    });
    await failing.announce();
    for (let i = 0; i < 4; i += 1) expect(await failing.deliverPending()).toBe(0);

    expect(mine()).toHaveLength(3);
    expect((await alertsOf())[0]).toMatchObject({
      deliveryAttempts: 3,
      deliveredAt: null,
      lastError: 'HTTP 502',
    });
    const failures = lines.filter((l) => String(l['msg']).startsWith('budget alert delivery'));
    expect(failures.map((l) => [l['level'], l['error']])).toEqual([
      ['warn', 'HTTP 503'],
      ['warn', 'no answer within 300 ms'],
      ['error', 'HTTP 502'],
    ]);
    expect(failures[2]).toMatchObject({ msg: 'budget alert delivery gave up', attempts: 3 });
    expect(await metric('agentry_budget_alert_deliveries_total', { outcome: 'failed' })).toBe(3);
    expect(await metric('agentry_budget_alert_deliveries_total', { outcome: 'gave_up' })).toBe(1);
  });

  it('only logs and counts without a webhook, and records a URL that cannot be resolved', async () => {
    await spend(5);
    const quiet = alerter({ webhook: undefined });
    expect(await quiet.announce()).toBe(1);
    expect(await quiet.deliverPending()).toBe(0);
    expect(mine()).toEqual([]);
    expect(
      await metric('agentry_budget_threshold_crossings_total', { tenant, threshold: '50' }),
    ).toBe(1);

    const unresolved = alerter({
      clock: later,
      webhook: { url: () => Promise.reject(new Error('secret aws://prod/budget-hook is missing')) },
    });
    expect(await unresolved.deliverPending()).toBe(0);
    expect((await alertsOf())[0]).toMatchObject({
      deliveryAttempts: 1,
      lastError: 'secret aws://prod/budget-hook is missing',
    });
  });

  it('never throws: a database that is gone is logged and the work left for later', async () => {
    const gone = await createTestDatabase({ prefix: 't_budget_gone', migrate: false });
    await gone.close();
    const broken = alerter({ repos: createRepositories(gone.db) });
    expect(await broken.announce()).toBe(0);
    expect(await broken.deliverPending()).toBe(0);
    expect(lines.map((l) => l['msg'])).toEqual([
      'budget alerts could not be claimed; next time',
      'budget alerts could not be retried; next time',
    ]);
  });
});
