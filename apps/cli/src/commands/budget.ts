import type { Command } from 'commander';
import { AppError } from '@agentry/schema';
import type { ApiClient } from '../api-client';
import { table } from '../render';

/** A budget as the API answers it. */
interface BudgetView {
  tenantId: string;
  monthlyUsd: number;
  thresholds: number[];
  period: string;
  spentUsd: number;
  spentPct: number;
  updatedBy: string;
  updatedAt: string;
}

/** A budget alert as the API answers it. */
interface AlertView {
  tenantId: string;
  period: string;
  thresholdPct: number;
  budgetUsd: number;
  spentUsd: number;
  crossedAt: string;
  announcedAt: string | null;
  deliveredAt: string | null;
  deliveryAttempts: number;
  lastError: string | null;
}

const budgetColumns = ['tenant', 'month', 'budget', 'spent', 'used', 'thresholds', 'updatedBy'];
const alertColumns = ['tenant', 'month', 'threshold', 'budget', 'spent', 'crossedAt', 'delivery'];

/** `agentry budget set | show | list | remove | alerts`: tenant monthly budgets (docs/budgets.md). */
export function budgetCommands(program: Command, api: () => ApiClient): void {
  const budget = program
    .command('budget')
    .description('tenant monthly budgets and their alert thresholds');
  const path = (tenant: string) => `/v1/tenants/${encodeURIComponent(tenant)}/budget`;

  budget
    .command('set')
    .description('set (or replace) a tenant’s monthly budget in US dollars')
    .argument('<tenant>')
    .argument('<monthlyUsd>')
    .option('--thresholds <list>', 'alert at these percentages of the budget', '50,80,100')
    .option('--actor <name>', 'who sets it (recorded in the audit log)', 'cli')
    .option('-r, --reason <text>', 'why (recorded in the audit log)')
    .action(async (tenant: string, monthlyUsd: string, opts: SetOptions) => {
      const set = await api().put<BudgetView>(path(tenant), {
        monthlyUsd: parseNumber(monthlyUsd, 'monthlyUsd'),
        thresholds: opts.thresholds.split(',').map((t) => parseNumber(t.trim(), 'threshold')),
        actor: opts.actor,
        ...(opts.reason ? { reason: opts.reason } : {}),
      });
      console.log(table([budgetRow(set)], budgetColumns));
    });
  budget
    .command('show')
    .argument('<tenant>')
    .action(async (tenant: string) => {
      console.log(table([budgetRow(await api().get<BudgetView>(path(tenant)))], budgetColumns));
    });
  budget.command('list').action(async () => {
    const { budgets } = await api().get<{ budgets: BudgetView[] }>('/v1/budgets');
    console.log(table(budgets.map(budgetRow), budgetColumns));
  });
  budget
    .command('remove')
    .argument('<tenant>')
    .option('--actor <name>', 'who removes it (recorded in the audit log)', 'cli')
    .option('-r, --reason <text>', 'why (recorded in the audit log)')
    .action(async (tenant: string, opts: { actor: string; reason?: string }) => {
      const q = new URLSearchParams({
        actor: opts.actor,
        ...(opts.reason ? { reason: opts.reason } : {}),
      });
      await api().delete(`${path(tenant)}?${q}`);
      console.log(`budget of ${tenant} removed`);
    });
  budget
    .command('alerts')
    .description('thresholds reached, newest month first')
    .option('-t, --tenant <id>', 'only this tenant')
    .option('-m, --month <YYYY-MM>', 'only this month')
    .option('-n, --limit <n>', 'how many', '50')
    .action(async (opts: { tenant?: string; month?: string; limit: string }) => {
      const q = new URLSearchParams({ limit: opts.limit });
      if (opts.tenant) q.set('tenantId', opts.tenant);
      if (opts.month) q.set('period', opts.month);
      const { alerts } = await api().get<{ alerts: AlertView[] }>(`/v1/budget-alerts?${q}`);
      console.log(table(alerts.map(alertRow), alertColumns));
    });
}

interface SetOptions {
  thresholds: string;
  actor: string;
  reason?: string;
}

function parseNumber(text: string, what: string): number {
  const value = Number(text);
  if (text === '' || !Number.isFinite(value)) {
    throw new AppError('VALIDATION', `${what} must be a number, got "${text}"`);
  }
  return value;
}

const usd = (value: number) => `$${value.toFixed(2)}`;
const month = (period: string) => period.slice(0, 7);

function budgetRow(b: BudgetView) {
  return {
    tenant: b.tenantId,
    month: month(b.period),
    budget: usd(b.monthlyUsd),
    spent: usd(b.spentUsd),
    used: `${b.spentPct}%`,
    thresholds: b.thresholds.map((t) => `${t}%`).join(','),
    updatedBy: b.updatedBy,
  };
}

/**
 * Where the alert is: `recorded` (not announced yet), `announced` (logged and counted; not posted,
 * or no webhook), `failed ×n` (n posts refused, retried up to the bound) or `delivered`.
 */
function alertRow(a: AlertView) {
  const delivery = a.deliveredAt
    ? 'delivered'
    : a.deliveryAttempts > 0
      ? `failed ×${a.deliveryAttempts}`
      : a.announcedAt
        ? 'announced'
        : 'recorded';
  return {
    tenant: a.tenantId,
    month: month(a.period),
    threshold: `${a.thresholdPct}%`,
    budget: usd(a.budgetUsd),
    spent: usd(a.spentUsd),
    crossedAt: a.crossedAt,
    delivery,
  };
}
