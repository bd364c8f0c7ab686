import { sql, type Kysely, type Transaction } from 'kysely';
import type { ApprovalRecord, SerializedError } from '@agentry/schema';
import type { AttemptOutcome, DB } from './db';
import { isUuid } from './is-uuid';
import { toJson } from './json';
import { lockRun } from './lock-run';
import type { CompleteResult } from './complete-step';
import { toStepRow, type StepRow } from './rows';
import type { StartAttemptResult } from './start-attempt';
import { stepBatches } from './step-batches';
import { toolDurations, type ToolDuration } from './tool-durations';

export type { CompleteResult } from './complete-step';
export type { SkipReason, StartAttemptResult } from './start-attempt';

/**
 * Steps and their attempts. Every method that changes a step runs in one transaction that
 * locks the run row, then the step row, so completions within a run are serialised
 * (`startAttempt` and `complete` as one call of a PL/pgSQL function each, migration 0002; calls
 * that overlap in one process go together, one statement per batch, migration 0006).
 */
export interface StepRepository {
  get(runId: string, stepId: string): Promise<StepRow | undefined>;
  /**
   * Claim a step for an attempt: the step becomes `running`, `attempts` goes up by one and an
   * attempt row (outcome `running`) is written. Runnable states are `queued` (a first attempt,
   * or a retry: a retryable failure puts the step back in `queued`) and `running` (a
   * re-delivery after a worker died mid-step; that older attempt is closed as `failed`).
   * Skips, changing nothing, when the step succeeded already, the run is not `running`, or the
   * step is in any other state.
   */
  startAttempt(
    runId: string,
    stepId: string,
    attempt: { attempt: number; jobId: string; worker: string },
  ): Promise<StartAttemptResult>;
  /**
   * Record success: step `running` → `succeeded` with its output, the attempt finished, each
   * dependent's `pending_deps` decremented and those reaching 0 moved `pending` → `queued`
   * (returned in `ready` with their `maxAttempts`, so the caller enqueues without a read);
   * the run becomes `succeeded` when every step has (`skipped` counts as done). Exactly-once
   * per step even under concurrent or repeated calls, and only by the step's open attempt: a
   * stale attempt (re-claimed by another worker) gets `superseded` and changes nothing.
   */
  complete(
    runId: string,
    stepId: string,
    attemptId: string,
    output: unknown,
  ): Promise<CompleteResult>;
  /**
   * Record a failed attempt. Not final: the step goes back to `queued` (its error kept) for the
   * queue's retry, or to `cancelled` when the run is no longer `running`. Final: the step
   * `failed`, the run `running` → `failed` with the error, and every `pending`/`queued` step
   * `cancelled`. `runFailed` says whether this call failed the run. Like every write of an
   * attempt's outcome, fenced: when `attemptId` is no longer the step's open attempt (another
   * worker re-claimed the step), nothing changes and `superseded` is true.
   */
  fail(
    runId: string,
    stepId: string,
    attemptId: string,
    error: SerializedError,
    options: { final: boolean },
  ): Promise<{ runFailed: boolean; superseded: boolean }>;
  /**
   * A worker shutting down mid-step: the attempt is `cancelled` and the step back in `queued`
   * (`attempts` is not decremented), or `cancelled` when the run is no longer `running`.
   * `requeued` is false unless the step went back to `queued`. Fenced as {@link fail}.
   */
  cancelAttempt(
    runId: string,
    stepId: string,
    attemptId: string,
  ): Promise<{ requeued: boolean; superseded: boolean }>;
  /**
   * Fail a step for good when no attempt of it could record its failure (its worker kept dying
   * and the queue gave up): any open attempt is closed as failed, then as a final {@link fail}.
   * No-op (`runFailed: false`) when the step already finished.
   */
  failForGood(
    runId: string,
    stepId: string,
    error: SerializedError,
  ): Promise<{ runFailed: boolean }>;
  /** Succeeded, not yet compensated steps, in reverse topological order. */
  forCompensation(runId: string): Promise<StepRow[]>;
  /**
   * After a compensation: `ok` → state `compensated` with `compensated_at`; otherwise the error
   * is stored and the step stays `succeeded` (so it is offered again). Undefined unless the
   * step was `succeeded`.
   */
  markCompensated(
    runId: string,
    stepId: string,
    result: { ok: boolean; error?: SerializedError },
  ): Promise<StepRow | undefined>;
  /** Steps in `queued`, by position: what to (re-)enqueue after approval or a crash. */
  queued(runId: string): Promise<StepRow[]>;
  /** Per tool, the median duration of recent successful attempts (see `toolDurations`). */
  durations(since: Date): Promise<Map<string, ToolDuration>>;
  /**
   * A budget stop that asks for approval: the attempt is `cancelled` with `error`, the step back
   * in `queued` (it runs once approved), and the run `running` → `awaiting_approval` with an
   * approval request of kind `budget` bound to its plan. Steps in flight finish; what becomes
   * ready meanwhile waits for the approval. `parked` is false (nothing changed but the attempt)
   * when the run was no longer running. Fenced as {@link fail}.
   */
  parkForBudget(
    runId: string,
    stepId: string,
    attemptId: string,
    park: { error: SerializedError; approval: Omit<ApprovalRecord, 'planHash'> },
  ): Promise<{ parked: boolean; superseded: boolean }>;
}

/** Build the {@link StepRepository}. */
export function createStepRepository(db: Kysely<DB>, clock: () => Date): StepRepository {
  const batches = stepBatches(db, clock);
  const lockStep = (trx: Transaction<DB>, runId: string, stepId: string) =>
    trx
      .selectFrom('steps')
      .selectAll()
      .where('runId', '=', runId)
      .where('stepId', '=', stepId)
      .forUpdate()
      .executeTakeFirst();

  /** The step `failed`, the run `running` → `failed`, and the run's unstarted steps `cancelled`. */
  const failStepAndRun = async (
    trx: Transaction<DB>,
    runId: string,
    stepId: string,
    error: SerializedError,
    now: Date,
  ): Promise<{ runFailed: boolean }> => {
    await trx
      .updateTable('steps')
      .set({ state: 'failed', error: toJson(error), finishedAt: now })
      .where('runId', '=', runId)
      .where('stepId', '=', stepId)
      .execute();
    const failed = await trx
      .updateTable('runs')
      .set({ state: 'failed', error: toJson(error), updatedAt: now, finishedAt: now })
      .where('id', '=', runId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    await trx
      .updateTable('steps')
      .set({ state: 'cancelled', finishedAt: now })
      .where('runId', '=', runId)
      .where('state', 'in', ['pending', 'queued'])
      .execute();
    return { runFailed: failed.numUpdatedRows > 0n };
  };

  /**
   * Close an attempt; false when it was not the step's open attempt (already closed, e.g. as
   * abandoned by another worker's re-claim): the caller is fenced off and must change nothing.
   */
  const finishAttempt = async (
    trx: Transaction<DB>,
    runId: string,
    stepId: string,
    attemptId: string,
    outcome: Exclude<AttemptOutcome, 'running'>,
    error: SerializedError | null,
    now: Date,
  ): Promise<boolean> => {
    if (!/^\d{1,18}$/.test(attemptId)) return false;
    const closed = await trx
      .updateTable('stepAttempts')
      .set({
        outcome,
        error: error === null ? null : toJson(error),
        finishedAt: now,
        durationMs: sql<number>`greatest(0, round(extract(epoch from (${now}::timestamptz - ${sql.ref('startedAt')})) * 1000))::int`,
      })
      .where('id', '=', attemptId)
      .where('runId', '=', runId)
      .where('stepId', '=', stepId)
      .where('outcome', '=', 'running')
      .executeTakeFirst();
    return closed.numUpdatedRows > 0n;
  };

  return {
    async get(runId, stepId) {
      if (!isUuid(runId)) return undefined;
      const row = await db
        .selectFrom('steps')
        .selectAll()
        .where('runId', '=', runId)
        .where('stepId', '=', stepId)
        .executeTakeFirst();
      return row && toStepRow(row);
    },

    startAttempt: (runId, stepId, attempt) => batches.startAttempt({ runId, stepId, attempt }),

    complete: (runId, stepId, attemptId, output) =>
      batches.complete({ runId, stepId, attemptId, output }),

    async fail(runId, stepId, attemptId, error, { final }) {
      const unchanged = { runFailed: false, superseded: false };
      if (!isUuid(runId)) return unchanged;
      return db.transaction().execute(async (trx) => {
        const run = await lockRun(trx, runId);
        const step = run && (await lockStep(trx, runId, stepId));
        const now = clock();
        const owned = await finishAttempt(trx, runId, stepId, attemptId, 'failed', error, now);
        if (!run || step?.state !== 'running') return unchanged;
        if (!owned) return { runFailed: false, superseded: true };
        if (!final) {
          // A retry only makes sense while the run goes on; otherwise the step would sit in
          // `queued` forever, since startAttempt skips steps of a run that is not running.
          const retry = run.state === 'running';
          await trx
            .updateTable('steps')
            .set(
              retry
                ? { state: 'queued', queuedAt: now, error: toJson(error) }
                : { state: 'cancelled', finishedAt: now, error: toJson(error) },
            )
            .where('runId', '=', runId)
            .where('stepId', '=', stepId)
            .execute();
          return unchanged;
        }
        return { ...(await failStepAndRun(trx, runId, stepId, error, now)), superseded: false };
      });
    },

    async failForGood(runId, stepId, error) {
      if (!isUuid(runId)) return { runFailed: false };
      return db.transaction().execute(async (trx) => {
        const run = await lockRun(trx, runId);
        const step = run && (await lockStep(trx, runId, stepId));
        if (!run || !step || !['pending', 'queued', 'running'].includes(step.state))
          return { runFailed: false };
        const now = clock();
        await trx
          .updateTable('stepAttempts')
          .set({ outcome: 'failed', error: toJson(error), finishedAt: now })
          .where('runId', '=', runId)
          .where('stepId', '=', stepId)
          .where('outcome', '=', 'running')
          .execute();
        return failStepAndRun(trx, runId, stepId, error, now);
      });
    },

    async cancelAttempt(runId, stepId, attemptId) {
      const unchanged = { requeued: false, superseded: false };
      if (!isUuid(runId)) return unchanged;
      return db.transaction().execute(async (trx) => {
        const run = await lockRun(trx, runId);
        const step = run && (await lockStep(trx, runId, stepId));
        const now = clock();
        const owned = await finishAttempt(trx, runId, stepId, attemptId, 'cancelled', null, now);
        if (step?.state !== 'running') return unchanged;
        if (!owned) return { requeued: false, superseded: true };
        const requeued = run?.state === 'running';
        await trx
          .updateTable('steps')
          .set(
            requeued ? { state: 'queued', queuedAt: now } : { state: 'cancelled', finishedAt: now },
          )
          .where('runId', '=', runId)
          .where('stepId', '=', stepId)
          .execute();
        return { requeued, superseded: false };
      });
    },

    async forCompensation(runId) {
      if (!isUuid(runId)) return [];
      const rows = await db
        .selectFrom('steps')
        .selectAll()
        .where('runId', '=', runId)
        .where('state', '=', 'succeeded')
        .where('compensatedAt', 'is', null)
        .orderBy('position', 'desc')
        .execute();
      return rows.map(toStepRow);
    },

    async markCompensated(runId, stepId, { ok, error }) {
      if (!isUuid(runId)) return undefined;
      const now = clock();
      const row = await db
        .updateTable('steps')
        .set(
          ok
            ? { state: 'compensated', compensatedAt: now }
            : { error: error === undefined ? null : toJson(error) },
        )
        .where('runId', '=', runId)
        .where('stepId', '=', stepId)
        .where('state', '=', 'succeeded')
        .returningAll()
        .executeTakeFirst();
      return row && toStepRow(row);
    },

    async parkForBudget(runId, stepId, attemptId, { error, approval }) {
      const unchanged = { parked: false, superseded: false };
      if (!isUuid(runId)) return unchanged;
      return db.transaction().execute(async (trx) => {
        const run = await lockRun(trx, runId);
        const step = run && (await lockStep(trx, runId, stepId));
        const now = clock();
        const owned = await finishAttempt(trx, runId, stepId, attemptId, 'cancelled', error, now);
        if (step?.state === 'running' && !owned) return { parked: false, superseded: true };
        if (run?.state !== 'running' || step?.state !== 'running') return unchanged;
        const plan = await trx
          .selectFrom('plans')
          .select('hash')
          .where('runId', '=', runId)
          .executeTakeFirstOrThrow();
        await trx
          .updateTable('steps')
          .set({ state: 'queued', queuedAt: now, error: toJson(error) })
          .where('runId', '=', runId)
          .where('stepId', '=', stepId)
          .execute();
        await trx
          .updateTable('runs')
          .set({
            state: 'awaiting_approval',
            updatedAt: now,
            approval: toJson({ ...approval, planHash: plan.hash }),
            approvalExpiresAt: approval.expiresAt === null ? null : new Date(approval.expiresAt),
          })
          .where('id', '=', runId)
          .execute();
        return { parked: true, superseded: false };
      });
    },

    durations: (since) => toolDurations(db, since),

    async queued(runId) {
      if (!isUuid(runId)) return [];
      const rows = await db
        .selectFrom('steps')
        .selectAll()
        .where('runId', '=', runId)
        .where('state', '=', 'queued')
        .orderBy('position')
        .execute();
      return rows.map(toStepRow);
    },
  };
}
