import type { Kysely } from 'kysely';
import type { ApprovalRecord, PlanReview, ValidatedPlan } from '@agentry/schema';
import type { DB } from './db';
import { isUuid } from './is-uuid';
import { lockRun } from './lock-run';
import { toJson } from './json';
import { planSteps } from './save-plan';

/** A reviewer's replacement of a plan that waits for approval. */
export interface AmendPlanInput extends ValidatedPlan {
  hash: string;
  review: PlanReview;
  /** The new approval request (the amended plan needs an approval of its own). */
  approval: ApprovalRecord;
}

export type AmendPlanResult =
  | { outcome: 'amended'; previousHash: string }
  | { outcome: 'unknown' }
  | { outcome: 'not-awaiting'; state: string }
  /** Some step already ran (a budget stop): the plan can no longer be replaced. */
  | { outcome: 'started' };

/**
 * Replace the plan of a run waiting for approval, in one transaction under the run's lock: the
 * plan row (body, hash, summary, review), all its steps (pending again), and the approval
 * request, which now names the new hash — so an approval of the plan as it was is refused.
 */
export async function amendPlan(
  db: Kysely<DB>,
  now: Date,
  runId: string,
  input: AmendPlanInput,
): Promise<AmendPlanResult> {
  if (!isUuid(runId)) return { outcome: 'unknown' };
  return db.transaction().execute(async (trx): Promise<AmendPlanResult> => {
    const run = await lockRun(trx, runId);
    if (!run) return { outcome: 'unknown' };
    if (run.state !== 'awaiting_approval') return { outcome: 'not-awaiting', state: run.state };
    const started = await trx
      .selectFrom('steps')
      .select('stepId')
      .where('runId', '=', runId)
      .where('attempts', '>', 0)
      .executeTakeFirst();
    if (started) return { outcome: 'started' };
    const previous = await trx
      .selectFrom('plans')
      .select('hash')
      .where('runId', '=', runId)
      .executeTakeFirstOrThrow();
    await trx.deleteFrom('steps').where('runId', '=', runId).execute();
    await trx
      .insertInto('steps')
      .values(
        planSteps(input.plan, input.order).map((s) => ({
          runId,
          stepId: s.stepId,
          position: s.position,
          tool: s.tool,
          input: toJson((s.input ?? {}) as Record<string, unknown>),
          dependsOn: toJson(s.dependsOn),
          pendingDeps: s.dependsOn.length,
          timeoutMs: s.timeoutMs,
          maxAttempts: s.maxAttempts,
          risk: s.risk,
          state: 'pending' as const,
        })),
      )
      .execute();
    await trx
      .updateTable('plans')
      .set({
        producedBy: input.plan.producedBy,
        summary: input.plan.summary,
        hash: input.hash,
        body: toJson(input.plan),
        review: toJson(input.review),
      })
      .where('runId', '=', runId)
      .execute();
    await trx
      .updateTable('runs')
      .set({
        updatedAt: now,
        approval: toJson(input.approval),
        approvalExpiresAt:
          input.approval.expiresAt === null ? null : new Date(input.approval.expiresAt),
      })
      .where('id', '=', runId)
      .execute();
    return { outcome: 'amended', previousHash: previous.hash };
  });
}
