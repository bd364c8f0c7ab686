import type { CostReportRepository, CostWindow } from '@agentry/db';

export const dayMs = 86_400_000;
/** Hours in an average month (8,760 / 12), as cloud providers bill. */
export const hoursPerMonth = 730;
/** Bytes in the "GB" of storage prices (a GiB, as cloud providers bill). */
export const bytesPerGb = 2 ** 30;

/** Round US dollars to a millionth, so sums of decimals do not print float noise. */
export const roundUsd = (usd: number): number => Math.round(usd * 1e6) / 1e6;

/** Where this month's spend is heading. */
export interface CostProjection {
  /** The current month, UTC: `YYYY-MM`. */
  month: string;
  monthToDateUsd: number;
  /** Spend per day over [`averageFrom`, `averageTo`): the window's last 7 days that have passed. */
  dailyAverageUsd: number;
  averageFrom: string;
  averageTo: string;
  /** Length of the averaging period in days (may be fractional; 0 when none of it has passed). */
  averageDays: number;
  /** Days left in the month after now (fractional). */
  remainingDays: number;
  /** `monthToDateUsd + dailyAverageUsd × remainingDays`. */
  projectedMonthUsd: number;
}

/** Unit prices of what the fleet runs on. */
export interface UnitPrices {
  /** One worker process (planner or executor) for an hour. */
  workerHourUsd: number;
  /** One GB (GiB) of database storage for a month. */
  databaseGbMonthUsd: number;
}

/** What the deployment costs per month: compute, database storage and spend. */
export interface FleetCost {
  /** Workers connected to the plan and step queues when the report was made; null: unknown. */
  workers: number | null;
  workerHourUsd: number;
  /** `workers × 730 h × workerHourUsd`; null without a count of workers. */
  computeMonthUsd: number | null;
  /** Size of the whole database; null when it could not be read. */
  databaseBytes: number | null;
  databaseGbMonthUsd: number;
  /** `databaseBytes / 2^30 × databaseGbMonthUsd`; null without a size. */
  databaseMonthUsd: number | null;
  /** The fleet-wide projected month of recorded spend (model calls and priced tools). */
  llmMonthUsd: number;
  /** The sum of the parts known (an unknown part counts as 0, and the report's notes say so). */
  totalMonthUsd: number;
}

/**
 * Project the current month's spend of `tenantId` (or of all tenants) at `now`: month to date,
 * plus the daily average of the window's last 7 days that have passed for each day left.
 */
export async function projectSpend(
  repo: Pick<CostReportRepository, 'totals'>,
  window: CostWindow,
  now: Date,
): Promise<CostProjection> {
  const scope = window.tenantId === undefined ? {} : { tenantId: window.tenantId };
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const nextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  const averageTo = new Date(Math.min(window.to.getTime(), now.getTime()));
  const averageFrom = new Date(
    Math.min(averageTo.getTime(), Math.max(window.from.getTime(), averageTo.getTime() - 7 * dayMs)),
  );
  const averageDays = (averageTo.getTime() - averageFrom.getTime()) / dayMs;
  const [monthToDate, recent] = await Promise.all([
    repo.totals({ from: monthStart, to: now, ...scope }),
    averageDays > 0 ? repo.totals({ from: averageFrom, to: averageTo, ...scope }) : undefined,
  ]);
  const dailyAverageUsd = recent && averageDays > 0 ? recent.totalUsd / averageDays : 0;
  const remainingDays = (nextMonth.getTime() - now.getTime()) / dayMs;
  return {
    month: monthStart.toISOString().slice(0, 7),
    monthToDateUsd: roundUsd(monthToDate.totalUsd),
    dailyAverageUsd: roundUsd(dailyAverageUsd),
    averageFrom: averageFrom.toISOString(),
    averageTo: averageTo.toISOString(),
    averageDays: Math.round(averageDays * 1000) / 1000,
    remainingDays: Math.round(remainingDays * 1000) / 1000,
    projectedMonthUsd: roundUsd(monthToDate.totalUsd + dailyAverageUsd * remainingDays),
  };
}

/** The fleet's monthly running cost from unit prices. Pure. */
export function fleetCost(
  workers: number | null,
  prices: UnitPrices,
  databaseBytes: number | null,
  llmMonthUsd: number,
): FleetCost {
  const computeMonthUsd = workers === null ? null : workers * hoursPerMonth * prices.workerHourUsd;
  const databaseMonthUsd =
    databaseBytes === null ? null : (databaseBytes / bytesPerGb) * prices.databaseGbMonthUsd;
  return {
    workers,
    workerHourUsd: prices.workerHourUsd,
    computeMonthUsd: computeMonthUsd === null ? null : roundUsd(computeMonthUsd),
    databaseBytes,
    databaseGbMonthUsd: prices.databaseGbMonthUsd,
    databaseMonthUsd: databaseMonthUsd === null ? null : roundUsd(databaseMonthUsd),
    llmMonthUsd,
    totalMonthUsd: roundUsd((computeMonthUsd ?? 0) + (databaseMonthUsd ?? 0) + llmMonthUsd),
  };
}
