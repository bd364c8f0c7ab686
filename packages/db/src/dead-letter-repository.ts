import type { Kysely } from 'kysely';
import {
  AppError,
  isAppError,
  toError,
  type ErrorCode,
  type SerializedError,
} from '@agentry/schema';
import type { DB } from './db';
import { isUuid } from './is-uuid';
import { toJson } from './json';
import { toDeadLetterRow, type DeadLetterRow } from './rows';

/** A job that failed for good, as the queue layer saw it. */
export interface CaptureDeadLetterInput {
  sourceQueue: string;
  jobId: string;
  jobName: string;
  runId?: string;
  stepId?: string;
  correlationId?: string;
  reason: string;
  errorCode: ErrorCode;
  /** Anything thrown; stored as a {@link SerializedError} (an AppError keeps its own fields). */
  error?: unknown;
  attempts: number;
  /** Whatever the job carried, even invalid; a non-object is stored as `{ raw }`. */
  payload: unknown;
  /** @default the repository clock */
  failedAt?: Date;
}

/** Filters of {@link DeadLetterRepository.list}. */
export interface ListDeadLettersOptions {
  /** @default 50, at most 500 */
  limit?: number;
  sourceQueue?: string;
  /** Include dead letters already replayed. @default false */
  includeReplayed?: boolean;
  /** Only those listed after this one (a page's last `failedAt` and `id`): the next page. */
  after?: { failedAt: Date; id: string };
}

/** Dead letters: kept for inspection, replayable. */
export interface DeadLetterRepository {
  /**
   * Store a dead letter. Idempotent while it is not replayed: capturing the same
   * (sourceQueue, jobId) again returns the existing id with `created: false`; once it has been
   * replayed, a new failure of that job gets a new row.
   */
  capture(entry: CaptureDeadLetterInput): Promise<{ id: string; created: boolean }>;
  /** Newest first. */
  list(options?: ListDeadLettersOptions): Promise<DeadLetterRow[]>;
  get(id: string): Promise<DeadLetterRow | undefined>;
  /** Set `replayed_at` and bump `replay_count`; undefined for an unknown id. */
  markReplayed(id: string): Promise<DeadLetterRow | undefined>;
  /**
   * Mark the unreplayed dead letter of a job replayed (the job was run again another way: a retry
   * from Bull Board); its id, or undefined when there was none.
   */
  markJobReplayed(sourceQueue: string, jobId: string): Promise<string | undefined>;
  /** How many dead letters are not replayed, by source queue. */
  unreplayedBySource(): Promise<Map<string, number>>;
  /**
   * Delete by ids and/or failed before `olderThan` (both: both must match); the number deleted.
   * Throws `VALIDATION` when given neither, rather than delete everything.
   */
  purge(options: { ids?: string[]; olderThan?: Date }): Promise<number>;
}

const clampLimit = (limit: number | undefined): number =>
  Math.min(Math.max(Math.trunc(limit ?? 50), 1), 500);

/** Serialise whatever was thrown, without trusting it to be an Error. */
function serializeError(error: unknown, code: ErrorCode): SerializedError {
  if (isAppError(error)) return error.toJSON();
  const e = toError(error);
  return { code, message: e.message, retryable: false, details: { name: e.name } };
}

/** A JSON object for the payload column: objects as they are, anything else wrapped. */
function payloadObject(payload: unknown): Record<string, unknown> {
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
    ? (payload as Record<string, unknown>)
    : { raw: payload ?? null };
}

/** Build the {@link DeadLetterRepository}. */
export function createDeadLetterRepository(
  db: Kysely<DB>,
  clock: () => Date,
): DeadLetterRepository {
  return {
    async capture(entry) {
      const values = {
        sourceQueue: entry.sourceQueue,
        jobId: entry.jobId,
        jobName: entry.jobName,
        runId: entry.runId !== undefined && isUuid(entry.runId) ? entry.runId : null,
        stepId: entry.stepId ?? null,
        correlationId: entry.correlationId ?? null,
        reason: entry.reason,
        errorCode: entry.errorCode,
        error:
          entry.error === undefined ? null : toJson(serializeError(entry.error, entry.errorCode)),
        attempts: entry.attempts,
        payload: toJson(payloadObject(entry.payload)),
        failedAt: entry.failedAt ?? clock(),
      };
      // Two tries: between our conflict and our read, the existing row may have been replayed.
      for (let i = 0; i < 2; i++) {
        const inserted = await db
          .insertInto('deadLetters')
          .values(values)
          .onConflict((oc) =>
            oc.columns(['sourceQueue', 'jobId']).where('replayedAt', 'is', null).doNothing(),
          )
          .returning('id')
          .executeTakeFirst();
        if (inserted) return { id: inserted.id, created: true };
        const existing = await db
          .selectFrom('deadLetters')
          .select('id')
          .where('sourceQueue', '=', entry.sourceQueue)
          .where('jobId', '=', entry.jobId)
          .where('replayedAt', 'is', null)
          .executeTakeFirst();
        if (existing) return { id: existing.id, created: false };
      }
      throw new AppError(
        'CONFLICT',
        `dead letter for ${entry.sourceQueue}/${entry.jobId} kept changing`,
      );
    },

    async list(options = {}) {
      let q = db.selectFrom('deadLetters').selectAll();
      if (options.sourceQueue !== undefined) q = q.where('sourceQueue', '=', options.sourceQueue);
      if (options.includeReplayed !== true) q = q.where('replayedAt', 'is', null);
      const { after } = options;
      if (after !== undefined && isUuid(after.id)) {
        q = q.where((eb) =>
          eb(
            eb.refTuple('failedAt', 'id'),
            '<',
            eb.tuple(eb.val(after.failedAt), eb.val(after.id)),
          ),
        );
      }
      const rows = await q
        .orderBy('failedAt', 'desc')
        .orderBy('id', 'desc')
        .limit(clampLimit(options.limit))
        .execute();
      return rows.map(toDeadLetterRow);
    },

    async get(id) {
      if (!isUuid(id)) return undefined;
      const row = await db
        .selectFrom('deadLetters')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toDeadLetterRow(row);
    },

    async markReplayed(id) {
      if (!isUuid(id)) return undefined;
      const row = await db
        .updateTable('deadLetters')
        .set((eb) => ({ replayedAt: clock(), replayCount: eb('replayCount', '+', 1) }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row && toDeadLetterRow(row);
    },

    async unreplayedBySource() {
      const rows = await db
        .selectFrom('deadLetters')
        .select((eb) => ['sourceQueue', eb.fn.countAll<string | number>().as('n')])
        .where('replayedAt', 'is', null)
        .groupBy('sourceQueue')
        .execute();
      return new Map(rows.map((r) => [r.sourceQueue, Number(r.n)]));
    },

    async markJobReplayed(sourceQueue, jobId) {
      const row = await db
        .updateTable('deadLetters')
        .set((eb) => ({ replayedAt: clock(), replayCount: eb('replayCount', '+', 1) }))
        .where('sourceQueue', '=', sourceQueue)
        .where('jobId', '=', jobId)
        .where('replayedAt', 'is', null)
        .returning('id')
        .executeTakeFirst();
      return row?.id;
    },

    async purge({ ids, olderThan }) {
      if (ids === undefined && olderThan === undefined) {
        throw new AppError(
          'VALIDATION',
          'purge needs ids or olderThan; refusing to delete every dead letter',
        );
      }
      let q = db.deleteFrom('deadLetters');
      if (ids !== undefined) {
        const valid = ids.filter(isUuid);
        if (valid.length === 0) return 0;
        q = q.where('id', 'in', valid);
      }
      if (olderThan !== undefined) q = q.where('failedAt', '<', olderThan);
      const result = await q.executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
