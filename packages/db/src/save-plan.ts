import { sql, type Kysely } from 'kysely';
import { AppError, type Plan } from '@agentry/schema';
import type { DB } from './db';
import { toJson } from './json';
import { llmCallsJson } from './llm-call-repository';
import type { ReadyStep } from './rows';
import type { SavePlanInput } from './run-repository';

/** The answer of `RunRepository.savePlan`. */
export interface SavePlanResult {
  rootStepIds: string[];
  roots: ReadyStep[];
  saved: boolean;
}

/**
 * `RunRepository.savePlan` in one round trip: the `agentry_save_reviewed_plan` function (migration
 * 0004, over 0003's `agentry_save_plan`) records the calls, locks the run and, if it is pending and
 * has no plan yet, stores the planning record, the plan with its review and its steps, the
 * approval request, and moves the run to `next` in the same call. The caller has checked the run
 * id and that `order` lists exactly the plan's steps.
 */
export async function savePlan(
  db: Kysely<DB>,
  now: Date,
  runId: string,
  { plan, order, hash, planning, llmCalls = [], review, approval }: SavePlanInput,
  next: 'running' | 'awaiting_approval',
): Promise<SavePlanResult> {
  const steps = planSteps(plan, order);
  const { rows } = await sql<{ result: 'not-found' | 'saved' | 'not-saved'; roots: ReadyStep[] }>`
    select r.result, r.roots
    from agentry_save_reviewed_plan(${runId}::uuid, ${next}::text, ${plan.source}::text,
      ${plan.producedBy}::text, ${plan.summary}::text, ${hash}::text, ${toJson(plan)}::jsonb,
      ${toJson(steps)}::jsonb, ${now}::timestamptz,
      ${planning === undefined ? null : toJson(planning)}::jsonb,
      ${toJson(llmCallsJson(llmCalls))}::jsonb,
      ${review === undefined ? null : toJson(review)}::jsonb,
      ${approval === undefined ? null : toJson(approval)}::jsonb,
      ${approval?.expiresAt == null ? null : new Date(approval.expiresAt)}::timestamptz) r`.execute(
    db,
  );
  const row = rows[0];
  if (!row || row.result === 'not-found') throw new AppError('NOT_FOUND', `no run ${runId}`);
  return {
    saved: row.result === 'saved',
    rootStepIds: row.roots.map((r) => r.stepId),
    roots: row.roots,
  };
}

/** A plan's steps as rows to store: position from `order`, dependencies without duplicates. */
export function planSteps(plan: Plan, order: readonly string[]) {
  const position = new Map(order.map((id, i) => [id, i]));
  return plan.steps.map((s) => ({
    stepId: s.id,
    position: position.get(s.id) ?? 0,
    tool: s.tool,
    // `undefined` would drop the key; a bare value is stored as JSON null, as before.
    input: s.input === undefined ? null : s.input,
    dependsOn: [...new Set(s.dependsOn)],
    timeoutMs: s.timeoutMs,
    maxAttempts: s.maxAttempts,
    risk: s.risk,
  }));
}
