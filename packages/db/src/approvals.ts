import { sql, type Kysely, type Transaction } from 'kysely';
import type { ApprovalDecision, SerializedError } from '@agentry/schema';
import type { DB } from './db';
import { isUuid } from './is-uuid';
import { toJson } from './json';
import { toRunRow, type ReadyStep, type RunRow } from './rows';

/** An approval as asked for: the plan it is about and, for a budget stop, the new budget. */
export interface ApproveInput {
  /** The hash of the plan the approver reviewed. */
  planHash: string;
  /** A new budget for the run (required to release a budget stop). */
  budgetUsd?: number;
  actor: string;
  reason?: string;
}

/** What an approval did, or why it was refused (nothing changed then, except an expiry). */
export type ApproveResult =
  | { outcome: 'approved'; run: RunRow; roots: ReadyStep[] }
  | { outcome: 'unknown' }
  | { outcome: 'not-awaiting'; run: RunRow }
  | { outcome: 'plan-changed'; run: RunRow; currentHash: string | null }
  /** The request had expired: the run is now rejected as expired. */
  | { outcome: 'expired'; run: RunRow }
  | { outcome: 'needs-budget'; run: RunRow; neededUsd: number };

const lockForDecision = (trx: Transaction<DB>, runId: string) =>
  trx.selectFrom('runs').selectAll().where('id', '=', runId).forNoKeyUpdate().executeTakeFirst();

/** The run's approval record with `decision` set (SQL, so a missing record starts empty). */
const withDecision = (decision: ApprovalDecision) =>
  sql<never>`coalesce(approval, '{}'::jsonb) || jsonb_build_object('decision', ${toJson(decision)}::jsonb)`;

/**
 * `awaiting_approval` → `running`, if the approver saw the current plan and the request has not
 * expired; a budget stop also needs a budget above what the run has spent plus what the stopped
 * step needs. Queues the steps whose dependencies are done and answers them with those queued
 * already (a budget stop's step, siblings that were skipped meanwhile): all to be dispatched.
 */
export async function approveRun(
  db: Kysely<DB>,
  now: Date,
  runId: string,
  input: ApproveInput,
): Promise<ApproveResult> {
  if (!isUuid(runId)) return { outcome: 'unknown' };
  return db.transaction().execute(async (trx): Promise<ApproveResult> => {
    const row = await lockForDecision(trx, runId);
    if (!row) return { outcome: 'unknown' };
    const run = toRunRow(row);
    if (run.state !== 'awaiting_approval') return { outcome: 'not-awaiting', run };
    const plan = await trx
      .selectFrom('plans')
      .select('hash')
      .where('runId', '=', runId)
      .executeTakeFirst();
    if (plan?.hash !== input.planHash) {
      return { outcome: 'plan-changed', run, currentHash: plan?.hash ?? null };
    }
    if (run.approvalExpiresAt !== null && run.approvalExpiresAt <= now) {
      const expired = await expire(trx, run, now);
      return { outcome: 'expired', run: expired };
    }
    const stop = run.approval?.kind === 'budget' ? run.approval.budget : undefined;
    if (stop) {
      const neededUsd = run.spentUsd + stop.neededUsd;
      if (input.budgetUsd === undefined || input.budgetUsd < neededUsd) {
        return { outcome: 'needs-budget', run, neededUsd };
      }
    }
    const decision: ApprovalDecision = {
      verdict: 'approved',
      actor: input.actor,
      reason: input.reason ?? null,
      at: now.toISOString(),
      planHash: input.planHash,
    };
    const approved = await trx
      .updateTable('runs')
      .set((eb) => ({
        state: 'running',
        updatedAt: now,
        startedAt: eb.fn.coalesce('startedAt', eb.val(now)),
        approval: withDecision(decision),
        approvalExpiresAt: null,
        ...(input.budgetUsd === undefined ? {} : { budgetUsd: input.budgetUsd }),
      }))
      .where('id', '=', runId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx
      .updateTable('steps')
      .set({ state: 'queued', queuedAt: now })
      .where('runId', '=', runId)
      .where('state', '=', 'pending')
      .where('pendingDeps', '=', 0)
      .execute();
    const queued = await trx
      .selectFrom('steps')
      .select(['stepId', 'maxAttempts'])
      .where('runId', '=', runId)
      .where('state', '=', 'queued')
      .orderBy('position')
      .execute();
    return { outcome: 'approved', run: toRunRow(approved), roots: queued };
  });
}

/** `awaiting_approval` → `rejected` with the decision recorded; undefined when not awaiting. */
export async function rejectRun(
  db: Kysely<DB>,
  now: Date,
  runId: string,
  decision: Omit<ApprovalDecision, 'at' | 'planHash'>,
  error: SerializedError,
): Promise<RunRow | undefined> {
  if (!isUuid(runId)) return undefined;
  return db.transaction().execute(async (trx) => {
    const row = await lockForDecision(trx, runId);
    if (row?.state !== 'awaiting_approval') return undefined;
    return stopAwaiting(trx, toRunRow(row), now, decision, error);
  });
}

/**
 * Reject every run whose approval request expired before `now` (at most `limit`), each with
 * an `expired` decision by `agentry`. Answers the runs it rejected.
 */
export async function expireApprovals(db: Kysely<DB>, now: Date, limit: number): Promise<RunRow[]> {
  const due = await db
    .selectFrom('runs')
    .select('id')
    .where('state', '=', 'awaiting_approval')
    .where('approvalExpiresAt', '<=', now)
    .orderBy('approvalExpiresAt')
    .limit(limit)
    .execute();
  const expired: RunRow[] = [];
  for (const { id } of due) {
    const run = await db.transaction().execute(async (trx) => {
      const row = await lockForDecision(trx, id);
      if (row?.state !== 'awaiting_approval' || !row.approvalExpiresAt) return undefined;
      if (row.approvalExpiresAt > now) return undefined;
      return expire(trx, toRunRow(row), now);
    });
    if (run) expired.push(run);
  }
  return expired;
}

function expire(trx: Transaction<DB>, run: RunRow, now: Date): Promise<RunRow> {
  const at = run.approvalExpiresAt?.toISOString() ?? now.toISOString();
  const message = `approval request expired at ${at} without a decision`;
  return stopAwaiting(
    trx,
    run,
    now,
    { verdict: 'expired', actor: 'agentry', reason: message },
    { code: 'POLICY_DENIED', message, retryable: false, details: { expired: true } },
  );
}

async function stopAwaiting(
  trx: Transaction<DB>,
  run: RunRow,
  now: Date,
  decision: Omit<ApprovalDecision, 'at' | 'planHash'>,
  error: SerializedError,
): Promise<RunRow> {
  const full: ApprovalDecision = {
    ...decision,
    at: now.toISOString(),
    planHash: run.approval?.planHash ?? '',
  };
  const row = await trx
    .updateTable('runs')
    .set({
      state: 'rejected',
      error: toJson(error),
      updatedAt: now,
      finishedAt: now,
      approval: withDecision(full),
      approvalExpiresAt: null,
    })
    .where('id', '=', run.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await trx
    .updateTable('steps')
    .set({ state: 'cancelled', finishedAt: now })
    .where('runId', '=', run.id)
    .where('state', 'in', ['pending', 'queued'])
    .execute();
  return toRunRow(row);
}
