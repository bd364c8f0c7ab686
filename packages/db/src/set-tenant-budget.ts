import { sql, type Selectable, type Transaction } from 'kysely';
import { AppError } from '@agentry/schema';
import type { DB, TenantBudgetsTable } from './db';
import { toJson } from './json';

/** Alert thresholds of a budget set without any: percentages of the monthly budget. */
export const defaultBudgetThresholds: readonly number[] = [50, 80, 100];

/** A tenant's monthly budget, as `BudgetRepository.set` takes it. */
export interface SetBudgetInput {
  /** US dollars per calendar month (UTC); above 0. */
  monthlyUsd: number;
  /** Whole percentages 1..1000 (at most 20), deduplicated and sorted here. @default [50, 80, 100] */
  thresholds?: readonly number[];
  /** Who set it (kept as `updated_by`). */
  actor: string;
}

/**
 * Upsert the budget, then record the thresholds this month's spend reaches under it — the
 * trigger's insert, so the same rule and the same once-only key. The spend row is locked first:
 * a cost being recorded concurrently either committed before (its spend is seen here) or waits
 * and then reads the new budget. (A month's very first cost racing a `set` is alerted with the
 * next cost.)
 */
export async function setTenantBudget(
  trx: Transaction<DB>,
  tenantId: string,
  input: SetBudgetInput,
  { now, period }: { now: Date; period: string },
): Promise<{ budget: Selectable<TenantBudgetsTable>; spentUsd: string | null }> {
  const monthlyUsd = checkedBudget(input.monthlyUsd);
  const thresholds = toJson(normalizeThresholds(input.thresholds ?? defaultBudgetThresholds));
  const values = { monthlyUsd, thresholds, updatedAt: now, updatedBy: input.actor.slice(0, 128) };
  const budget = await trx
    .insertInto('tenantBudgets')
    .values({ tenantId, ...values })
    .onConflict((oc) => oc.column('tenantId').doUpdateSet(values))
    .returningAll()
    .executeTakeFirstOrThrow();
  const spend = await trx
    .selectFrom('tenantSpend')
    .select('spentUsd')
    .where('tenantId', '=', tenantId)
    .where('period', '=', period)
    .forUpdate()
    .executeTakeFirst();
  if (spend) {
    await sql`insert into budget_alerts
        (tenant_id, period, threshold_pct, budget_usd, spent_usd, crossed_at)
      select s.tenant_id, s.period, p.pct, b.monthly_usd, s.spent_usd, ${now}
        from tenant_spend s
        join tenant_budgets b on b.tenant_id = s.tenant_id
        cross join lateral (
          select (value)::int as pct from jsonb_array_elements_text(b.thresholds)) p
        where s.tenant_id = ${tenantId} and s.period = ${period}
          and s.spent_usd >= b.monthly_usd * p.pct / 100
      on conflict (tenant_id, period, threshold_pct) do nothing`.execute(trx);
  }
  return { budget, spentUsd: spend?.spentUsd ?? null };
}

function checkedBudget(monthlyUsd: number): number {
  if (!Number.isFinite(monthlyUsd) || monthlyUsd <= 0 || monthlyUsd > 1e12) {
    throw new AppError('VALIDATION', 'a monthly budget is a number of US dollars above 0');
  }
  return monthlyUsd;
}

/** Whole percentages 1..1000, at most 20, deduplicated and sorted; `VALIDATION` otherwise. */
function normalizeThresholds(thresholds: readonly number[]): number[] {
  const valid = (p: number) => Number.isInteger(p) && p >= 1 && p <= 1000;
  if (thresholds.length === 0 || thresholds.length > 20 || !thresholds.every(valid)) {
    throw new AppError('VALIDATION', 'thresholds are 1 to 20 whole percentages from 1 to 1000', {
      details: { thresholds },
    });
  }
  return [...new Set(thresholds)].sort((a, b) => a - b);
}
