import type { Kysely } from 'kysely';
import {
  databaseBytes,
  llmPlannedIntents,
  lowRiskGenerate,
  retryCosts,
  spendByModel,
} from './cost-call-queries';
import { spendByDay, spendByTenant, spendByTool, spendTotals } from './cost-ledger-queries';
import type { DB } from './db';

/** What a cost report covers: spend recorded at `from` ≤ at < `to`, of one tenant or all. */
export interface CostWindow {
  from: Date;
  to: Date;
  tenantId?: string;
}

/** Spend over a window, US dollars: model calls (`llm`) and priced tool calls (`tool`). */
export interface SpendTotals {
  llmUsd: number;
  toolUsd: number;
  totalUsd: number;
  llmCalls: number;
  toolCharges: number;
  /** Runs with any recorded call or charge in the window. */
  runs: number;
}

export interface TenantSpendRow extends SpendTotals {
  tenantId: string;
}

/** One configured model of one provider (the model as configured, not as answered). */
export interface ModelSpendRow {
  provider: string;
  model: string;
  calls: number;
  /** Calls of a model missing from the price table (recorded at $0). */
  unpricedCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** A tool's own charges plus the model calls made by its steps (`llm.generate`). */
export interface ToolSpendRow {
  tool: string;
  charges: number;
  chargesUsd: number;
  llmCalls: number;
  llmUsd: number;
  totalUsd: number;
}

/** One UTC day (`YYYY-MM-DD`) with spend. */
export interface DaySpendRow {
  day: string;
  llmUsd: number;
  toolUsd: number;
  totalUsd: number;
}

/** A run whose plan a model wrote, with what planning it cost. */
export interface LlmPlannedIntentRow {
  runId: string;
  tenantId: string;
  text: string;
  /** The template the planner found matching the intent (see `PlanningRecord`), if any. */
  templateMatch: string | null;
  planningUsd: number;
  plannedAt: Date;
}

/** `llm.generate` calls made by steps rated risk `low`, by model. */
export interface LowRiskGenerateRow {
  provider: string;
  model: string;
  calls: number;
  steps: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/**
 * Paid work that was redone: plans that failed validation and were repaired (`llm`, named by
 * model) and charges of tool attempts that failed or were cancelled (`tool`, named by tool).
 */
export interface RetryCostRow {
  source: 'llm' | 'tool';
  name: string;
  /** The model's provider; null for a tool. */
  provider: string | null;
  retries: number;
  costUsd: number;
}

/** The read side of the cost ledgers (`llm_calls`, `tool_charges`), for the cost report. */
export interface CostReportRepository {
  totals(window: CostWindow): Promise<SpendTotals>;
  /** Highest spend first. */
  byTenant(window: CostWindow): Promise<TenantSpendRow[]>;
  /** Highest cost first. */
  byModel(window: CostWindow): Promise<ModelSpendRow[]>;
  /** Highest total first. */
  byTool(window: CostWindow): Promise<ToolSpendRow[]>;
  /** Days with spend, oldest first (days without are left out). */
  byDay(window: CostWindow): Promise<DaySpendRow[]>;
  /** Runs planned by a model in the window (by plan time), costliest planning first. @default limit 5000 */
  llmPlannedIntents(window: CostWindow, limit?: number): Promise<LlmPlannedIntentRow[]>;
  /** Highest cost first. */
  lowRiskGenerate(window: CostWindow): Promise<LowRiskGenerateRow[]>;
  /** Highest cost first. */
  retryCosts(window: CostWindow): Promise<RetryCostRow[]>;
  /** `pg_database_size` of the whole database (every schema); null where it cannot be read. */
  databaseBytes(): Promise<number | null>;
}

/**
 * Build the {@link CostReportRepository}. Read-only; `clock` is not used (the window is always
 * given) and kept for the shape every repository factory has.
 */
export function createCostReportRepository(
  db: Kysely<DB>,
  _clock: () => Date,
): CostReportRepository {
  return {
    totals: (w) => spendTotals(db, w),
    byTenant: (w) => spendByTenant(db, w),
    byModel: (w) => spendByModel(db, w),
    byTool: (w) => spendByTool(db, w),
    byDay: (w) => spendByDay(db, w),
    llmPlannedIntents: (w, limit = 5_000) => llmPlannedIntents(db, w, limit),
    lowRiskGenerate: (w) => lowRiskGenerate(db, w),
    retryCosts: (w) => retryCosts(db, w),
    databaseBytes: () => databaseBytes(db),
  };
}
