import type { Kysely } from 'kysely';
import {
  AppError,
  terminalRunStates,
  type ApprovalRecord,
  type PlanReview,
  type Intent,
  type Plan,
  type PlanningRecord,
  type RunState,
  type SerializedError,
} from '@agentry/schema';
import { amendPlan, type AmendPlanInput, type AmendPlanResult } from './amend-plan';
import type { DB } from './db';
import { runDetail, type RunDetail } from './run-detail';
import { resumeRun, type ResumeResult } from './resume-run';
import { isUuid } from './is-uuid';
import type { LlmCallInput } from './llm-call-repository';
import {
  approveRun,
  expireApprovals,
  rejectRun,
  type ApproveInput,
  type ApproveResult,
} from './approvals';
import { groupCommit, isServerError } from './group-commit';
import { savePlan } from './save-plan';
import { toJson } from './json';
import { toRunRow, type ReadyStep, type RunRow } from './rows';

/** What a new run is made of. */
export interface CreateRunInput {
  /** Chosen by the caller (e.g. derived from the plan job id) so a retry maps to the same run. */
  id: string;
  tenantId: string;
  conversationId?: string;
  idempotencyKey?: string;
  planJobId?: string;
  correlationId: string;
  dryRun: boolean;
  intent: Intent;
  budgetUsd?: number;
}

/** A validated plan with its topological order and the sha256 of its canonical JSON. */
export interface SavePlanInput {
  plan: Plan;
  order: string[];
  hash: string;
  /** How the plan was made; stored on the run. */
  planning?: PlanningRecord;
  /** The model calls planning made; recorded even when the plan is not saved. */
  llmCalls?: readonly LlmCallInput[];
  /** Estimates, risk and approval policy of the plan. */
  review?: PlanReview;
  /** Why the run waits for approval (with `next: 'awaiting_approval'`). */
  approval?: ApprovalRecord;
}

/** Filters of {@link RunRepository.list}. */
export interface ListRunsOptions {
  tenantId?: string;
  state?: RunState;
  /** @default 50, at most 500 */
  limit?: number;
  /** Only runs created strictly before this instant (for paging). */
  before?: Date;
}

/** Runs and their lifecycle. Every multi-row change is one transaction. */
export type { RunDetail, StepDetail } from './run-detail';

export interface RunRepository {
  /**
   * Record a run, idempotently: an existing run with the same id, the same
   * (tenantId, idempotencyKey) or the same planJobId is returned with `created: false`.
   * Race-safe (INSERT … ON CONFLICT DO NOTHING, then read). Throws `VALIDATION` for a non-UUID id.
   */
  create(input: CreateRunInput): Promise<{ run: RunRow; created: boolean }>;
  /** The run, or undefined (also for an id that is not a UUID). */
  get(id: string): Promise<RunRow | undefined>;
  /** Newest first. */
  list(options?: ListRunsOptions): Promise<RunRow[]>;
  /**
   * Move a run to `to` only if it is in one of `from` (one conditional UPDATE). Sets
   * `started_at` on first entering `running`, `finished_at` on entering a terminal state.
   * Returns the updated run, or undefined when it was not in `from`.
   */
  transition(
    id: string,
    from: readonly RunState[],
    to: RunState,
    patch?: { error?: SerializedError | null },
  ): Promise<RunRow | undefined>;
  /**
   * Store the plan and its steps and move the run from `pending` to `next`, in one
   * transaction and one round trip (the `agentry_save_plan` function). `rootStepIds` are the steps to enqueue now (empty when awaiting approval).
   * When the plan was already saved or the run is no longer pending, nothing changes and
   * `saved` is false, with the run's currently queued root steps. `roots` are the same steps
   * as `rootStepIds` with their `maxAttempts`. Throws `NOT_FOUND` for an unknown run and
   * `PLAN_INVALID` when `order` does not list exactly the plan's steps.
   */
  savePlan(
    runId: string,
    input: SavePlanInput,
    next: 'running' | 'awaiting_approval',
  ): Promise<{ rootStepIds: string[]; roots: ReadyStep[]; saved: boolean }>;
  /**
   * `awaiting_approval` → `running` when `planHash` names the current plan, the request has not
   * expired (an expired one is rejected now) and, after a budget stop, `budgetUsd` covers it
   * (see `approveRun` in approvals.ts). The decision is recorded on the run.
   */
  approve(runId: string, input: ApproveInput): Promise<ApproveResult>;
  /**
   * `awaiting_approval` → `rejected` (error code `POLICY_DENIED`), its steps `cancelled`, the
   * decision recorded on the run. Undefined when the run is unknown or not awaiting approval
   * (conditional under the run's lock, so an approval that lands first wins).
   */
  reject(runId: string, reason: string, actor?: string): Promise<RunRow | undefined>;
  /** Reject runs whose approval request has expired (at most `limit`); answers them. */
  expireApprovals(limit: number): Promise<RunRow[]>;
  /** Resume a run that failed at `stepId` (see `resumeRun` in resume-run.ts). */
  resume(runId: string, stepId: string): Promise<ResumeResult>;
  /** Replace the plan of a run waiting for approval (see `amendPlan` in amend-plan.ts). */
  amendPlan(runId: string, input: AmendPlanInput): Promise<AmendPlanResult>;
  /**
   * Any non-terminal state → `cancelled` (error code `CANCELLED`); steps not started are
   * `cancelled`. A step in flight is left `running` for its worker to settle: its result is
   * recorded (and then compensated by the executor), not dropped. Undefined when the run is
   * unknown or already terminal.
   */
  cancel(runId: string, reason: string): Promise<RunRow | undefined>;
  /** The run, its plan and its steps with their attempts; undefined for an unknown run. */
  detail(id: string): Promise<RunDetail | undefined>;
  /** Runs in `states` not updated since `olderThan`, least recently updated first. */
  stale(options: {
    states: readonly RunState[];
    olderThan: Date;
    limit: number;
  }): Promise<RunRow[]>;
}

const nonTerminal: RunState[] = ['pending', 'awaiting_approval', 'running'];
const clampLimit = (limit: number | undefined): number =>
  Math.min(Math.max(Math.trunc(limit ?? 50), 1), 500);

/** Build the {@link RunRepository}. */
export function createRunRepository(db: Kysely<DB>, clock: () => Date): RunRepository {
  const findExisting = async (input: CreateRunInput) => {
    const byId = await db
      .selectFrom('runs')
      .selectAll()
      .where('id', '=', input.id)
      .executeTakeFirst();
    if (byId) return byId;
    if (input.idempotencyKey !== undefined) {
      const byKey = await db
        .selectFrom('runs')
        .selectAll()
        .where('tenantId', '=', input.tenantId)
        .where('idempotencyKey', '=', input.idempotencyKey)
        .executeTakeFirst();
      if (byKey) return byKey;
    }
    if (input.planJobId === undefined) return undefined;
    return db
      .selectFrom('runs')
      .selectAll()
      .where('planJobId', '=', input.planJobId)
      .executeTakeFirst();
  };

  const stop = (
    runId: string,
    from: readonly RunState[],
    to: 'cancelled',
    error: SerializedError,
  ) => {
    if (!isUuid(runId)) return Promise.resolve(undefined);
    return db.transaction().execute(async (trx) => {
      const now = clock();
      const run = await trx
        .updateTable('runs')
        .set({ state: to, error: toJson(error), updatedAt: now, finishedAt: now })
        .where('id', '=', runId)
        .where('state', 'in', [...from])
        .returningAll()
        .executeTakeFirst();
      if (!run) return undefined;
      await trx
        .updateTable('steps')
        .set({ state: 'cancelled', finishedAt: now })
        .where('runId', '=', runId)
        .where('state', 'in', ['pending', 'queued'])
        .execute();
      return toRunRow(run);
    });
  };

  // Reads that overlap go together: one `in (…)` statement per batch (see `groupCommit`).
  const getRun = groupCommit<string, RunRow | undefined>({
    one: async (id) => {
      const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toRunRow(row);
    },
    many: async (ids) => {
      const rows = await db
        .selectFrom('runs')
        .selectAll()
        .where('id', 'in', [...new Set(ids)])
        .execute();
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => {
        const row = byId.get(id);
        return row && toRunRow(row);
      });
    },
    refused: isServerError,
    maxInFlight: 2,
  });

  return {
    async create(input) {
      if (!isUuid(input.id))
        throw new AppError('VALIDATION', `run id is not a UUID: "${input.id}"`);
      const now = clock();
      const insert = (q: Kysely<DB>) =>
        q
          .insertInto('runs')
          .values({
            id: input.id,
            tenantId: input.tenantId,
            conversationId: input.conversationId ?? null,
            idempotencyKey: input.idempotencyKey ?? null,
            planJobId: input.planJobId ?? null,
            correlationId: input.correlationId,
            state: 'pending',
            dryRun: input.dryRun,
            intent: toJson(input.intent),
            budgetUsd: input.budgetUsd ?? null,
            createdAt: now,
            updatedAt: now,
          })
          // No conflict target: any unique index (id, idempotency key, plan job id) makes it a no-op.
          .onConflict((oc) => oc.doNothing())
          .returningAll()
          .executeTakeFirst();
      const { conversationId } = input;
      const inserted =
        conversationId === undefined
          ? await insert(db)
          : // A new turn of its conversation, numbered in the same transaction (only when the run
            // is new: a retried submit is not another turn).
            await db.transaction().execute(async (trx) => {
              const run = await insert(trx);
              if (!run) return undefined;
              const { turns } = await trx
                .insertInto('conversations')
                .values({
                  tenantId: input.tenantId,
                  conversationId,
                  turns: 1,
                  createdAt: now,
                  lastTurnAt: now,
                })
                .onConflict((oc) =>
                  oc.columns(['tenantId', 'conversationId']).doUpdateSet((eb) => ({
                    turns: eb('conversations.turns', '+', 1),
                    lastTurnAt: now,
                  })),
                )
                .returning('turns')
                .executeTakeFirstOrThrow();
              return trx
                .updateTable('runs')
                .set({ turn: turns })
                .where('id', '=', run.id)
                .returningAll()
                .executeTakeFirstOrThrow();
            });
      if (inserted) return { run: toRunRow(inserted), created: true };
      const existing = await findExisting(input);
      if (!existing)
        throw new AppError('CONFLICT', `run ${input.id} conflicts with a run that vanished`);
      return { run: toRunRow(existing), created: false };
    },

    async get(id) {
      if (!isUuid(id)) return undefined;
      return getRun(id);
    },

    async list(options = {}) {
      let q = db.selectFrom('runs').selectAll();
      if (options.tenantId !== undefined) q = q.where('tenantId', '=', options.tenantId);
      if (options.state !== undefined) q = q.where('state', '=', options.state);
      if (options.before !== undefined) q = q.where('createdAt', '<', options.before);
      const rows = await q
        .orderBy('createdAt', 'desc')
        .orderBy('id')
        .limit(clampLimit(options.limit))
        .execute();
      return rows.map(toRunRow);
    },

    async transition(id, from, to, patch) {
      if (from.length === 0 || !isUuid(id)) return undefined;
      const now = clock();
      const row = await db
        .updateTable('runs')
        .set((eb) => ({
          state: to,
          updatedAt: now,
          ...(to === 'running' ? { startedAt: eb.fn.coalesce('startedAt', eb.val(now)) } : {}),
          ...(terminalRunStates.includes(to) ? { finishedAt: now } : {}),
          ...(patch?.error === undefined
            ? {}
            : { error: patch.error === null ? null : toJson(patch.error) }),
        }))
        .where('id', '=', id)
        .where('state', 'in', from)
        .returningAll()
        .executeTakeFirst();
      return row && toRunRow(row);
    },

    async savePlan(runId, input, next) {
      const { plan, order } = input;
      const ids = new Set(plan.steps.map((s) => s.id));
      if (order.length !== ids.size || !order.every((id) => ids.has(id))) {
        throw new AppError(
          'PLAN_INVALID',
          'the topological order does not list exactly the plan steps',
          {
            details: { order, steps: [...ids] },
          },
        );
      }
      if (!isUuid(runId)) throw new AppError('NOT_FOUND', `no run ${runId}`);
      return savePlan(db, clock(), runId, input, next);
    },

    approve: (runId, input) => approveRun(db, clock(), runId, input),

    reject: (runId, reason, actor = 'api') =>
      rejectRun(
        db,
        clock(),
        runId,
        { verdict: 'rejected', actor, reason },
        { code: 'POLICY_DENIED', message: reason, retryable: false },
      ),

    expireApprovals: (limit) => expireApprovals(db, clock(), clampLimit(limit)),

    amendPlan: (runId, input) => amendPlan(db, clock(), runId, input),

    resume: (runId, stepId) => resumeRun(db, clock(), runId, stepId),

    cancel: (runId, reason) =>
      stop(runId, nonTerminal, 'cancelled', {
        code: 'CANCELLED',
        message: reason,
        retryable: false,
      }),

    detail: (id) => runDetail(db, id),

    async stale({ states, olderThan, limit }) {
      if (states.length === 0) return [];
      const rows = await db
        .selectFrom('runs')
        .selectAll()
        .where('state', 'in', states)
        .where('updatedAt', '<', olderThan)
        .orderBy('updatedAt')
        .limit(clampLimit(limit))
        .execute();
      return rows.map(toRunRow);
    },
  };
}
