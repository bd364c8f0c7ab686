import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { budgetPeriod } from '@agentry/db';
import { recordSpend } from '@agentry/db/testing';
import { TestApi } from '../../api/test/support/test-api';
import { runCli } from './support/cli-fleet';

/** `agentry budget …` against the real API (no planner or executor needed). */
describe('agentry budget', () => {
  let api: TestApi;
  let env: Record<string, string>;
  let tenant: string;
  beforeAll(async () => {
    api = await TestApi.start();
    env = { ...api.env, AGENTRY_API_URL: api.url };
  });
  afterAll(async () => {
    await api?.close();
  });
  beforeEach(() => {
    tenant = `cli-${randomBytes(4).toString('hex')}`;
  });

  const month = () => budgetPeriod(new Date()).slice(0, 7);
  const spend = (usd: number) => recordSpend(api.services.repos, tenant, usd);

  it('sets a budget (audited) and shows it with this month’s spend', async () => {
    await spend(5);
    const set = await runCli(
      ['budget', 'set', tenant, '25', '--actor', 'alice', '--reason', 'pilot'],
      env,
    );
    const [header, row, ...rest] = set.out.split('\n');
    expect(header).toMatch(/^TENANT\s+MONTH\s+BUDGET\s+SPENT\s+USED\s+THRESHOLDS\s+UPDATEDBY$/);
    expect(row).toMatch(
      new RegExp(
        `^${tenant}\\s+${month()}\\s+\\$25\\.00\\s+\\$5\\.00\\s+20%\\s+50%,80%,100%\\s+alice$`,
      ),
    );
    expect(rest).toEqual([]);
    expect((await api.services.repos.audit.list({ targetId: tenant }))[0]).toMatchObject({
      actor: 'alice',
      action: 'budget.set',
      details: { monthlyUsd: 25, reason: 'pilot' },
    });

    await runCli(['budget', 'set', tenant, '40', '--thresholds', '90, 25'], env);
    const shown = await runCli(['budget', 'show', tenant], env);
    expect(shown.out.split('\n')[1]).toMatch(/\$40\.00\s+\$5\.00\s+12\.5%\s+25%,90%\s+cli$/);
  });

  it('lists budgets and removes one', async () => {
    await runCli(['budget', 'set', tenant, '10'], env);
    await runCli(['budget', 'set', `${tenant}-b`, '20'], env);
    const listed = await runCli(['budget', 'list'], env);
    const rows = listed.out.split('\n').filter((l) => l.startsWith(tenant));
    expect(rows.map((r) => r.split(/\s+/).slice(0, 3))).toEqual([
      [tenant, month(), '$10.00'],
      [`${tenant}-b`, month(), '$20.00'],
    ]);

    const removed = await runCli(['budget', 'remove', tenant, '--reason', 'done'], env);
    expect(removed.out).toBe(`budget of ${tenant} removed`);
    await expect(runCli(['budget', 'show', tenant], env)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(runCli(['budget', 'remove', tenant], env)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('lists the alerts of a tenant with where each one is', async () => {
    await runCli(['budget', 'set', tenant, '10'], env);
    await spend(6);
    await api.services.repos.budgets.claimUnannounced(1_000);
    await runCli(['budget', 'set', tenant, '6.5'], env);
    const listed = await runCli(['budget', 'alerts', '--tenant', tenant, '--month', month()], env);
    const [header, ...rows] = listed.out.split('\n');
    expect(header).toMatch(/^TENANT\s+MONTH\s+THRESHOLD\s+BUDGET\s+SPENT\s+CROSSEDAT\s+DELIVERY$/);
    expect(rows.map((r) => r.split(/\s+/).filter((_, i) => i !== 5))).toEqual([
      [tenant, month(), '50%', '$10.00', '$6.00', 'announced'],
      [tenant, month(), '80%', '$6.50', '$6.00', 'recorded'],
    ]);
    const none = await runCli(['budget', 'alerts', '--tenant', tenant, '--month', '1999-01'], env);
    expect(none.out.split('\n')).toHaveLength(1);
  });

  it('refuses a budget or threshold that is not a number, and one the API refuses', async () => {
    await expect(runCli(['budget', 'set', tenant, 'lots'], env)).rejects.toMatchObject({
      code: 'VALIDATION',
      message: 'monthlyUsd must be a number, got "lots"',
    });
    await expect(
      runCli(['budget', 'set', tenant, '10', '--thresholds', '50,x'], env),
    ).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(
      runCli(['budget', 'set', tenant, '10', '--thresholds', '0,50'], env),
    ).rejects.toMatchObject({ code: 'VALIDATION', message: 'budget is invalid' });
  });
});
