import { sql, type Kysely, type Selectable } from 'kysely';
import type { BudgetAlertsTable, DB, TenantBudgetsTable } from './db';
import { setTenantBudget, type SetBudgetInput } from './set-tenant-budget';

export { defaultBudgetThresholds, type SetBudgetInput } from './set-tenant-budget';

/** A tenant's budget with what it has spent this month. */
export interface TenantBudget {
  tenantId: string;
  monthlyUsd: number;
  thresholds: number[];
  updatedAt: Date;
  updatedBy: string;
  /** The current month (UTC) as its first day, e.g. `2025-03-01`. */
  period: string;
  /** Spent in `period` so far, US dollars. */
  spentUsd: number;
  /** `spentUsd` as a percentage of `monthlyUsd`, to two decimals. */
  spentPct: number;
}

/** One threshold a tenant's spend reached in one month. `id` is a bigserial, as a string. */
export interface BudgetAlertRow {
  id: string;
  tenantId: string;
  /** The month (UTC) as its first day, e.g. `2025-03-01`. */
  period: string;
  thresholdPct: number;
  /** The budget and the month's spend when the threshold was reached. */
  budgetUsd: number;
  spentUsd: number;
  crossedAt: Date;
  announcedAt: Date | null;
  deliveredAt: Date | null;
  deliveryAttempts: number;
  lastError: string | null;
}

/**
 * Tenant budgets and their alerts. Spend is added up and each threshold reached is recorded (once
 * per tenant, month and threshold) by the `agentry_account_spend` trigger (migration 0004);
 * this repository announces and delivers those records, see `docs/budgets.md`.
 */
export interface BudgetRepository {
  /**
   * Create or replace the budget. Thresholds the month's spend already reaches under the new
   * budget are recorded in the same transaction (a lowered budget alerts at once); thresholds
   * already recorded this month stay recorded, so raising a budget never alerts them again.
   * Throws `VALIDATION` for a budget not above 0 or bad thresholds.
   */
  set(tenantId: string, input: SetBudgetInput): Promise<TenantBudget>;
  /** The budget with month-to-date spend; undefined without one. */
  get(tenantId: string): Promise<TenantBudget | undefined>;
  /** Every budget with month-to-date spend, by tenant id. */
  list(): Promise<TenantBudget[]>;
  /** Delete the budget (its alerts stay); false when there was none. */
  remove(tenantId: string): Promise<boolean>;
  /**
   * Mark up to `limit` unannounced alerts announced and return them, oldest first. Each alert is
   * returned to exactly one caller across the fleet (conditional update, locked rows skipped).
   * @default limit 100
   */
  claimUnannounced(limit?: number): Promise<BudgetAlertRow[]>;
  /** Announced alerts not yet delivered with fewer than `maxAttempts` deliveries tried. */
  undelivered(options: {
    maxAttempts: number;
    /** Only alerts announced before this (their first delivery is over). */
    announcedBefore?: Date;
    /** @default 100 */
    limit?: number;
  }): Promise<BudgetAlertRow[]>;
  /** Record a delivery; false when unknown or already delivered. */
  markDelivered(id: string): Promise<boolean>;
  /** Count a failed delivery and keep its error (cut to 500 characters); the attempts so far, 0 when unknown or delivered. */
  markDeliveryFailed(id: string, error: string): Promise<number>;
  /** Alerts, newest month first. @default limit 100, at most 1000 */
  alerts(filter?: {
    tenantId?: string;
    period?: string;
    limit?: number;
  }): Promise<BudgetAlertRow[]>;
}

/** The month (UTC) `at` falls in, as its first day: the `period` of spend and alerts. */
export function budgetPeriod(at: Date): string {
  const month = String(at.getUTCMonth() + 1).padStart(2, '0');
  return `${at.getUTCFullYear()}-${month}-01`;
}

/** Build the {@link BudgetRepository}. */
export function createBudgetRepository(db: Kysely<DB>, clock: () => Date): BudgetRepository {
  const withSpend = (period: string) =>
    db
      .selectFrom('tenantBudgets as b')
      .leftJoin('tenantSpend as s', (j) =>
        j.onRef('s.tenantId', '=', 'b.tenantId').on('s.period', '=', period),
      )
      .selectAll('b')
      .select('s.spentUsd');
  const alertsTable = () => db.selectFrom('budgetAlerts').select(alertColumns);

  return {
    async set(tenantId, input) {
      const now = clock();
      const period = budgetPeriod(now);
      const set = await db
        .transaction()
        .execute((trx) => setTenantBudget(trx, tenantId, input, { now, period }));
      return toBudget(set.budget, period, set.spentUsd);
    },

    async get(tenantId) {
      const period = budgetPeriod(clock());
      const row = await withSpend(period).where('b.tenantId', '=', tenantId).executeTakeFirst();
      return row && toBudget(row, period, row.spentUsd);
    },

    async list() {
      const period = budgetPeriod(clock());
      const rows = await withSpend(period).orderBy('b.tenantId').execute();
      return rows.map((row) => toBudget(row, period, row.spentUsd));
    },

    async remove(tenantId) {
      const result = await db
        .deleteFrom('tenantBudgets')
        .where('tenantId', '=', tenantId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async claimUnannounced(limit = 100) {
      const rows = await db
        .updateTable('budgetAlerts')
        .set({ announcedAt: clock() })
        .where('announcedAt', 'is', null)
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('budgetAlerts')
            .select('id')
            .where('announcedAt', 'is', null)
            .orderBy('id')
            .limit(clampLimit(limit))
            .forUpdate()
            .skipLocked(),
        )
        .returning(alertColumns)
        .execute();
      return rows.map(toAlertRow).sort((a, b) => Number(a.id) - Number(b.id));
    },

    async undelivered({ maxAttempts, announcedBefore, limit = 100 }) {
      let q = alertsTable()
        .where('announcedAt', 'is not', null)
        .where('deliveredAt', 'is', null)
        .where('deliveryAttempts', '<', maxAttempts);
      if (announcedBefore) q = q.where('announcedAt', '<', announcedBefore);
      const rows = await q.orderBy('id').limit(clampLimit(limit)).execute();
      return rows.map(toAlertRow);
    },

    async markDelivered(id) {
      if (!isBigSerial(id)) return false;
      const result = await db
        .updateTable('budgetAlerts')
        .set({ deliveredAt: clock(), lastError: null })
        .where('id', '=', id)
        .where('deliveredAt', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async markDeliveryFailed(id, error) {
      if (!isBigSerial(id)) return 0;
      const row = await db
        .updateTable('budgetAlerts')
        .set((eb) => ({
          deliveryAttempts: eb('deliveryAttempts', '+', 1),
          lastError: error.slice(0, 500),
        }))
        .where('id', '=', id)
        .where('deliveredAt', 'is', null)
        .returning('deliveryAttempts')
        .executeTakeFirst();
      return row?.deliveryAttempts ?? 0;
    },

    async alerts(filter = {}) {
      let q = alertsTable();
      if (filter.tenantId !== undefined) q = q.where('tenantId', '=', filter.tenantId);
      if (filter.period !== undefined) q = q.where('period', '=', filter.period);
      const rows = await q
        .orderBy('period', 'desc')
        .orderBy('tenantId')
        .orderBy('thresholdPct')
        .limit(clampLimit(filter.limit ?? 100))
        .execute();
      return rows.map(toAlertRow);
    },
  };
}

// Periods as text, whatever the session's DateStyle (node-postgres makes a `date` a local Date).
const alertColumns = [
  'id',
  'tenantId',
  sql<string>`to_char(period, 'YYYY-MM-DD')`.as('period'),
  'thresholdPct',
  'budgetUsd',
  'spentUsd',
  'crossedAt',
  'announcedAt',
  'deliveredAt',
  'deliveryAttempts',
  'lastError',
] as const;

type AlertRecord = Omit<Selectable<BudgetAlertsTable>, 'period'> & { period: string };

const toAlertRow = (r: AlertRecord): BudgetAlertRow => ({
  ...r,
  id: String(r.id),
  budgetUsd: Number(r.budgetUsd),
  spentUsd: Number(r.spentUsd),
});

function toBudget(
  row: Selectable<TenantBudgetsTable>,
  period: string,
  spent: string | null,
): TenantBudget {
  const monthlyUsd = Number(row.monthlyUsd);
  const spentUsd = Number(spent ?? 0);
  const spentPct = Math.round((spentUsd / monthlyUsd) * 10_000) / 100;
  return { ...row, monthlyUsd, period, spentUsd, spentPct };
}

const clampLimit = (limit: number) => Math.min(Math.max(Math.trunc(limit) || 1, 1), 1_000);
const isBigSerial = (id: string) => /^\d{1,18}$/.test(id);
