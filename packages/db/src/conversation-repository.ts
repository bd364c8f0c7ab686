import type { Kysely, NotNull } from 'kysely';
import type { PlanSource, RunState } from '@agentry/schema';
import type { DB } from './db';

/** A conversation: the thread of runs that named it, per tenant. */
export interface ConversationRow {
  tenantId: string;
  conversationId: string;
  /** Turns so far (the number of the latest). */
  turns: number;
  createdAt: Date;
  lastTurnAt: Date;
}

/** What a succeeded step of a turn produced. */
export interface TurnOutput {
  stepId: string;
  tool: string;
  output: unknown;
}

/** One turn of a conversation: its run, as the planner and operators need it. */
export interface ConversationTurn {
  runId: string;
  /** 1 for the first turn. */
  turn: number;
  createdAt: Date;
  intentText: string;
  state: RunState;
  /** Null until the run is planned. */
  planSummary: string | null;
  planSource: PlanSource | null;
  producedBy: string | null;
  error: { code: string; message: string } | null;
  /** The outputs of its succeeded steps, in plan order (position). */
  outputs: TurnOutput[];
  /** US dollars. */
  spentUsd: number;
}

/** Filters of {@link ConversationRepository.list}. */
export interface ListConversationsOptions {
  tenantId?: string;
  /** @default 50, at most 500 */
  limit?: number;
  /** Only conversations whose last turn is strictly before this instant (for paging). */
  before?: Date;
}

/** Which turns {@link ConversationRepository.turns} returns. */
export interface TurnsOptions {
  /** Only turns numbered below this one (e.g. the turn being planned). */
  beforeTurn?: number;
  /** The most recent this many of those. @default 50, at most 500 */
  limit?: number;
}

/**
 * Conversations and their turns (read side; turns are written by `runs.create`). Conversations
 * are per tenant: the same id under another tenant is another conversation.
 */
export interface ConversationRepository {
  /** Newest `lastTurnAt` first. */
  list(options?: ListConversationsOptions): Promise<ConversationRow[]>;
  /** The conversation, or undefined. */
  get(tenantId: string, conversationId: string): Promise<ConversationRow | undefined>;
  /**
   * The most recent turns (at most `limit`, before `beforeTurn` when given), returned oldest
   * first. Two queries whatever the number of turns: the runs with their plans, then the
   * outputs of their succeeded steps. Empty for an unknown conversation.
   */
  turns(
    tenantId: string,
    conversationId: string,
    options?: TurnsOptions,
  ): Promise<ConversationTurn[]>;
  /**
   * Retention: delete conversations whose last turn is older than `olderThan`, at most `limit`
   * of them per call (oldest first; call again while it returns `limit`). Each batch is one
   * transaction that also detaches the conversation's runs (`conversation_id` and `turn` set to
   * null). The runs themselves are kept: they are run history, with their costs. Conversations
   * another purger has locked are skipped. Returns how many conversations were deleted.
   */
  purgeExpired(options: { olderThan: Date; limit: number }): Promise<number>;
}

const batchSize = 500;
const clampLimit = (limit: number | undefined): number =>
  Math.min(Math.max(Math.trunc(limit ?? 50), 1), 500);

/** Build the {@link ConversationRepository}. */
export function createConversationRepository(
  db: Kysely<DB>,
  _clock: () => Date,
): ConversationRepository {
  return {
    async list(options = {}) {
      let q = db.selectFrom('conversations').selectAll();
      if (options.tenantId !== undefined) q = q.where('tenantId', '=', options.tenantId);
      if (options.before !== undefined) q = q.where('lastTurnAt', '<', options.before);
      return q
        .orderBy('lastTurnAt', 'desc')
        .orderBy('tenantId')
        .orderBy('conversationId')
        .limit(clampLimit(options.limit))
        .execute();
    },

    get: (tenantId, conversationId) =>
      db
        .selectFrom('conversations')
        .selectAll()
        .where('tenantId', '=', tenantId)
        .where('conversationId', '=', conversationId)
        .executeTakeFirst(),

    async turns(tenantId, conversationId, options = {}) {
      const runs = await turnRuns(db, tenantId, conversationId, options);
      if (runs.length === 0) return [];
      const outputs = await succeededOutputs(
        db,
        runs.map((r) => r.runId),
      );
      return runs.reverse().map((r) => ({ ...r, outputs: outputs.get(r.runId) ?? [] }));
    },

    async purgeExpired({ olderThan, limit }) {
      const most = Math.max(Math.trunc(limit), 0);
      let purged = 0;
      let size = Math.min(batchSize, most);
      while (size > 0) {
        const removed = await purgeBatch(db, olderThan, size);
        purged += removed;
        // A short batch means nothing expired is left (or the rest is being purged elsewhere).
        size = removed < size ? 0 : Math.min(batchSize, most - purged);
      }
      return purged;
    },
  };
}

/** The turn runs with their plans, newest first. */
async function turnRuns(
  db: Kysely<DB>,
  tenantId: string,
  conversationId: string,
  { beforeTurn, limit }: TurnsOptions,
): Promise<Array<Omit<ConversationTurn, 'outputs'>>> {
  let q = db
    .selectFrom('runs')
    .leftJoin('plans', 'plans.runId', 'runs.id')
    .select([
      'runs.id as runId',
      'runs.turn',
      'runs.createdAt',
      'runs.intent',
      'runs.state',
      'runs.error',
      'runs.spentUsd',
      'plans.summary as planSummary',
      'plans.source as planSource',
      'plans.producedBy',
    ])
    .where('runs.tenantId', '=', tenantId)
    .where('runs.conversationId', '=', conversationId)
    .where('runs.turn', 'is not', null)
    .$narrowType<{ turn: NotNull }>();
  if (beforeTurn !== undefined) q = q.where('runs.turn', '<', beforeTurn);
  const rows = await q.orderBy('runs.turn', 'desc').limit(clampLimit(limit)).execute();
  return rows.map(({ intent, error, spentUsd, ...r }) => ({
    ...r,
    intentText: intent.text,
    error: error && { code: error.code, message: error.message },
    spentUsd: Number(spentUsd),
  }));
}

/** The outputs of the succeeded steps of `runIds`, by run, in plan order. */
async function succeededOutputs(
  db: Kysely<DB>,
  runIds: string[],
): Promise<Map<string, TurnOutput[]>> {
  const rows = await db
    .selectFrom('steps')
    .select(['runId', 'stepId', 'tool', 'output'])
    .where('runId', 'in', runIds)
    .where('state', '=', 'succeeded')
    .orderBy('runId')
    .orderBy('position')
    .execute();
  const byRun = new Map<string, TurnOutput[]>();
  for (const { runId, ...output } of rows) byRun.set(runId, [...(byRun.get(runId) ?? []), output]);
  return byRun;
}

/** Delete up to `size` expired conversations and detach their runs, in one transaction. */
function purgeBatch(db: Kysely<DB>, olderThan: Date, size: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    // Locked, so a concurrent new turn (which updates the row) waits, and then starts a new
    // conversation under the same id rather than joining one being deleted.
    const doomed = await trx
      .selectFrom('conversations')
      .select(['tenantId', 'conversationId'])
      .where('lastTurnAt', '<', olderThan)
      .orderBy('lastTurnAt')
      .limit(size)
      .forUpdate()
      .skipLocked()
      .execute();
    if (doomed.length === 0) return 0;
    await trx
      .updateTable('runs')
      .set({ conversationId: null, turn: null })
      .where((eb) =>
        eb(
          eb.refTuple('tenantId', 'conversationId'),
          'in',
          doomed.map((c) => eb.tuple(c.tenantId, c.conversationId)),
        ),
      )
      .execute();
    const deleted = await trx
      .deleteFrom('conversations')
      .where((eb) =>
        eb(
          eb.refTuple('tenantId', 'conversationId'),
          'in',
          doomed.map((c) => eb.tuple(c.tenantId, c.conversationId)),
        ),
      )
      .executeTakeFirst();
    return Number(deleted.numDeletedRows);
  });
}
