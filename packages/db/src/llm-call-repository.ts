import type { Kysely } from 'kysely';
import type { LlmCallPurpose } from '@agentry/schema';
import type { DB } from './db';
import { isUuid } from './is-uuid';
import { toLlmCallRow, type LlmCallRow } from './rows';

/** One model call to record. */
export interface LlmCallInput {
  runId: string;
  /** The step whose tool made the call (`llm.generate`); absent for planning. */
  stepId?: string;
  purpose: LlmCallPurpose;
  provider: string;
  /** As configured. */
  model: string;
  /** As the provider named it in its answer. */
  answeredModel?: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  priced: boolean;
  latencyMs: number;
  outcome: 'ok' | 'invalid' | 'error';
  errorCode?: string;
}

/** What a run's model calls add up to. */
export interface LlmCallTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** Every model call, with its run. */
export interface LlmCallRepository {
  /** Insert the calls in one statement (nothing for an empty list). */
  record(calls: readonly LlmCallInput[]): Promise<void>;
  /** A run's calls, oldest first; empty for an unknown run. */
  forRun(runId: string): Promise<LlmCallRow[]>;
  /** Sums over a run's calls. */
  totals(runId: string): Promise<LlmCallTotals>;
}

/** Build the {@link LlmCallRepository}. */
export function createLlmCallRepository(db: Kysely<DB>, clock: () => Date): LlmCallRepository {
  return {
    record: (calls) => insertLlmCalls(db, clock(), calls),

    async forRun(runId) {
      if (!isUuid(runId)) return [];
      const rows = await db
        .selectFrom('llmCalls')
        .selectAll()
        .where('runId', '=', runId)
        .orderBy('id')
        .execute();
      return rows.map(toLlmCallRow);
    },

    async totals(runId) {
      const zero = { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
      if (!isUuid(runId)) return zero;
      const row = await db
        .selectFrom('llmCalls')
        .select((eb) => [
          eb.fn.countAll<string | number>().as('calls'),
          eb.fn.coalesce(eb.fn.sum<string | number>('inputTokens'), eb.lit(0)).as('inputTokens'),
          eb.fn.coalesce(eb.fn.sum<string | number>('outputTokens'), eb.lit(0)).as('outputTokens'),
          eb.fn.coalesce(eb.fn.sum<string | number>('costUsd'), eb.lit(0)).as('costUsd'),
        ])
        .where('runId', '=', runId)
        .executeTakeFirst();
      if (!row) return zero;
      return {
        calls: Number(row.calls),
        inputTokens: Number(row.inputTokens),
        outputTokens: Number(row.outputTokens),
        costUsd: Number(row.costUsd),
      };
    },
  };
}

/** `calls` as rows: text cut to the column's bound, counts whole and never negative. */
function toRows(calls: readonly LlmCallInput[]) {
  return calls.map((c) => ({
    runId: c.runId,
    stepId: c.stepId ?? null,
    purpose: c.purpose,
    provider: c.provider.slice(0, 128),
    model: c.model.slice(0, 256),
    answeredModel: c.answeredModel?.slice(0, 256) ?? null,
    inputTokens: Math.max(0, Math.round(c.inputTokens)),
    outputTokens: Math.max(0, Math.round(c.outputTokens)),
    costUsd: Math.max(0, c.costUsd),
    priced: c.priced,
    latencyMs: Math.max(0, Math.round(c.latencyMs)),
    outcome: c.outcome,
    errorCode: c.errorCode ?? null,
  }));
}

/** Insert `calls` in one statement (nothing for an empty list). */
async function insertLlmCalls(
  db: Kysely<DB>,
  at: Date,
  calls: readonly LlmCallInput[],
): Promise<void> {
  if (calls.length === 0) return;
  await db
    .insertInto('llmCalls')
    .values(toRows(calls).map((row) => ({ ...row, at })))
    .execute();
}

/**
 * `calls` as the JSON array `agentry_save_plan` (migration 0003) reads with `jsonb_to_recordset`:
 * snake_case keys, the run id left out (the function has it).
 */
export function llmCallsJson(calls: readonly LlmCallInput[]): Array<Record<string, unknown>> {
  return toRows(calls).map((row) => ({
    step_id: row.stepId,
    purpose: row.purpose,
    provider: row.provider,
    model: row.model,
    answered_model: row.answeredModel,
    input_tokens: row.inputTokens,
    output_tokens: row.outputTokens,
    cost_usd: row.costUsd,
    priced: row.priced,
    latency_ms: row.latencyMs,
    outcome: row.outcome,
    error_code: row.errorCode,
  }));
}
