import type {
  CostReportRepository,
  CostWindow,
  DaySpendRow,
  ModelSpendRow,
  SpendTotals,
  TenantSpendRow,
  ToolSpendRow,
} from '@agentry/db';
import type { PriceTable } from '@agentry/llm';
import {
  dayMs,
  fleetCost,
  hoursPerMonth,
  projectSpend,
  roundUsd,
  type CostProjection,
  type FleetCost,
  type UnitPrices,
} from './cost-projection';
import { costSuggestions, type CostSuggestion } from './cost-suggestions';

export type { CostProjection, FleetCost, UnitPrices } from './cost-projection';
export type { CostSuggestion, CostSuggestionKind } from './cost-suggestions';
export { counted, formatUsd } from './cost-suggestions';

/** What {@link buildCostReport} reads from. */
export interface CostReportDeps {
  costReport: CostReportRepository;
  /** "Now": the month projected and the end of what has passed. @default () => new Date() */
  clock?: () => Date;
}

export interface CostReportOptions {
  window: CostWindow;
  prices: PriceTable;
  unitPrices: UnitPrices;
  /** Workers connected now (plan and step queues); null when they could not be counted. */
  workers: number | null;
  /** Retries costing more than this (US dollars, per tool or model) are suggested. @default 0.01 */
  retryWasteThresholdUsd?: number;
}

/** The cost report: JSON-serialisable (dates as ISO strings, money as US dollars). */
export interface CostReport {
  generatedAt: string;
  window: { from: string; to: string; tenantId: string | null; days: number };
  totals: SpendTotals;
  byTenant: TenantSpendRow[];
  byModel: ModelSpendRow[];
  byTool: ToolSpendRow[];
  /** Every UTC day the window touches, days without spend at zero. */
  byDay: DaySpendRow[];
  projection: CostProjection;
  fleet: FleetCost;
  suggestions: CostSuggestion[];
  /** What the report could not cover, and why. */
  notes: string[];
}

/** Everything the report reads over the window, at once. */
async function readWindow(repo: CostReportRepository, w: CostWindow) {
  const [totals, byTenant, byModel, byTool, byDay, intents, lowRisk, retries, bytes] =
    await Promise.all([
      repo.totals(w),
      repo.byTenant(w),
      repo.byModel(w),
      repo.byTool(w),
      repo.byDay(w),
      repo.llmPlannedIntents(w),
      repo.lowRiskGenerate(w),
      repo.retryCosts(w),
      repo.databaseBytes(),
    ]);
  return { totals, byTenant, byModel, byTool, byDay, intents, lowRisk, retries, bytes };
}

/**
 * Spend by tenant, model, tool and day over a window, the month's projection, the fleet's
 * running cost and suggestions derived from the data. Reads the repository only; never writes.
 */
export async function buildCostReport(
  deps: CostReportDeps,
  options: CostReportOptions,
): Promise<CostReport> {
  const now = (deps.clock ?? (() => new Date()))();
  const { window: w } = options;
  const repo = deps.costReport;
  // With a tenant, the fleet is still priced on everyone's spend: the fleet is shared.
  const [data, projection, fleetWide] = await Promise.all([
    readWindow(repo, w),
    projectSpend(repo, w, now),
    w.tenantId === undefined ? undefined : projectSpend(repo, { from: w.from, to: w.to }, now),
  ]);
  const spendMonthUsd = (fleetWide ?? projection).projectedMonthUsd;
  const passedDays = (Math.min(w.to.getTime(), now.getTime()) - w.from.getTime()) / dayMs;
  return {
    generatedAt: now.toISOString(),
    window: {
      from: w.from.toISOString(),
      to: w.to.toISOString(),
      tenantId: w.tenantId ?? null,
      days: Math.round(((w.to.getTime() - w.from.getTime()) / dayMs) * 1000) / 1000,
    },
    totals: { ...data.totals, totalUsd: roundUsd(data.totals.totalUsd) },
    byTenant: data.byTenant.map((r) => ({ ...r, totalUsd: roundUsd(r.totalUsd) })),
    byModel: data.byModel,
    byTool: data.byTool.map((r) => ({ ...r, totalUsd: roundUsd(r.totalUsd) })),
    byDay: everyDay(w, data.byDay),
    projection,
    fleet: fleetCost(options.workers, options.unitPrices, data.bytes, spendMonthUsd),
    suggestions: costSuggestions({
      llmPlannedIntents: data.intents,
      lowRiskGenerate: data.lowRisk,
      retryCosts: data.retries,
      prices: options.prices,
      retryWasteThresholdUsd: options.retryWasteThresholdUsd ?? 0.01,
      monthFactor: passedDays > 0 ? hoursPerMonth / 24 / passedDays : undefined,
    }),
    notes: notesOf(options, data.bytes),
  };
}

function notesOf(options: CostReportOptions, databaseBytes: number | null): string[] {
  const notes: string[] = [];
  if (Object.keys(options.prices.models).length === 0) {
    notes.push('the price table is empty: cheaper-model suggestions are left out');
  }
  if (options.workers === null) {
    notes.push('the workers could not be counted: compute is left out of the fleet total');
  }
  if (databaseBytes === null) {
    notes.push('the database size could not be read: storage is left out of the fleet total');
  }
  return notes;
}

/** `rows` with a zero row for each UTC day of `w` that has none. */
function everyDay(w: CostWindow, rows: readonly DaySpendRow[]): DaySpendRow[] {
  const known = new Map(rows.map((r) => [r.day, { ...r, totalUsd: roundUsd(r.totalUsd) }]));
  const days: DaySpendRow[] = [];
  const first = Math.floor(w.from.getTime() / dayMs) * dayMs;
  for (let t = first; t < w.to.getTime(); t += dayMs) {
    const day = new Date(t).toISOString().slice(0, 10);
    days.push(known.get(day) ?? { day, llmUsd: 0, toolUsd: 0, totalUsd: 0 });
  }
  return days;
}
