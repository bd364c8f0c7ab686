import type { Kysely } from 'kysely';
import type { DB } from './db';
import { isUuid } from './is-uuid';
import {
  toLlmCallRow,
  toPlanRow,
  toRunRow,
  toStepAttemptRow,
  toStepRow,
  type LlmCallRow,
  type PlanRow,
  type RunRow,
  type StepAttemptRow,
  type StepRow,
} from './rows';

/** A step with its attempts, oldest first. */
export interface StepDetail extends StepRow {
  attemptHistory: StepAttemptRow[];
  /** What the step actually cost: its tool charges and its model calls, every attempt. */
  costUsd: number;
}

/** Everything about one run, for the API. */
export interface RunDetail {
  run: RunRow;
  plan: PlanRow | null;
  /** Ordered by position (topological order). */
  steps: StepDetail[];
  /** Every model call of the run (planning and `llm.generate` steps), oldest first. */
  llmCalls: LlmCallRow[];
}

/** The run, its plan, its steps with their attempts and costs, and its model calls. */
export async function runDetail(db: Kysely<DB>, id: string): Promise<RunDetail | undefined> {
  if (!isUuid(id)) return undefined;
  const run = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
  if (!run) return undefined;
  const [plan, steps, attempts, calls, charges] = await Promise.all([
    db.selectFrom('plans').selectAll().where('runId', '=', id).executeTakeFirst(),
    db.selectFrom('steps').selectAll().where('runId', '=', id).orderBy('position').execute(),
    db.selectFrom('stepAttempts').selectAll().where('runId', '=', id).orderBy('id').execute(),
    db.selectFrom('llmCalls').selectAll().where('runId', '=', id).orderBy('id').execute(),
    db.selectFrom('toolCharges').select(['stepId', 'costUsd']).where('runId', '=', id).execute(),
  ]);
  const byStep = new Map<string, StepAttemptRow[]>();
  for (const a of attempts.map(toStepAttemptRow))
    byStep.set(a.stepId, [...(byStep.get(a.stepId) ?? []), a]);
  const llmCalls = calls.map(toLlmCallRow);
  const cost = new Map<string, number>();
  for (const c of [...charges.map((c) => ({ ...c, costUsd: Number(c.costUsd) })), ...llmCalls])
    if (c.stepId !== null) cost.set(c.stepId, (cost.get(c.stepId) ?? 0) + c.costUsd);
  return {
    run: toRunRow(run),
    plan: plan ? toPlanRow(plan) : null,
    steps: steps.map((s) => ({
      ...toStepRow(s),
      attemptHistory: byStep.get(s.stepId) ?? [],
      costUsd: cost.get(s.stepId) ?? 0,
    })),
    llmCalls,
  };
}
