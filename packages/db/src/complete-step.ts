import { sql, type Kysely } from 'kysely';
import type { RunState } from '@agentry/schema';
import type { DB } from './db';
import { isUuid } from './is-uuid';
import { toJson } from './json';
import type { ReadyStep } from './rows';

/** The answer of `StepRepository.complete`. */
export interface CompleteResult {
  /** Steps whose last dependency this was: now `queued`, to be enqueued by the caller. */
  readyStepIds: string[];
  /** The same steps with what enqueueing them needs, by position. */
  ready: ReadyStep[];
  /** The run moved `running` → `succeeded` (this was its last step). */
  runSucceeded: boolean;
  /** The step was not `running` (a duplicate delivery, or cancelled): nothing changed. */
  alreadyDone: boolean;
  /**
   * The step is running under another attempt: this worker's lock lapsed and another worker
   * re-claimed the step (closing this attempt as abandoned). Nothing changed; that worker owns
   * the step now. `alreadyDone` is true too.
   */
  superseded: boolean;
  /**
   * The run's state after this call; `failed` or `cancelled` on a step that was recorded as
   * succeeded means the run ended while it was in flight (so it needs compensating).
   * Undefined when the run does not exist.
   */
  runState: RunState | undefined;
}

/**
 * `StepRepository.complete` in one round trip: the `agentry_complete_step` function
 * (migrations 0002, 0004, 0005) locks the run, then the step, checks that `attemptId` is the
 * step's open attempt, and records everything in the same call.
 */
export async function completeStep(
  db: Kysely<DB>,
  now: Date,
  runId: string,
  stepId: string,
  attemptId: string,
  output: unknown,
): Promise<CompleteResult> {
  if (!isUuid(runId)) return notRunning();
  const { rows } = await sql<CompleteRow>`
    select r.result, r.run_succeeded, r.ready, r.run_state
    from agentry_complete_step(${runId}::uuid, ${stepId}::text, ${attemptParam(attemptId)}::bigint,
      ${toJson(output)}::jsonb, ${now}::timestamptz) r`.execute(db);
  return toCompleteResult(rows[0]);
}

/** A row of `agentry_complete_step` (or of `agentry_complete_steps`, without its index). */
export interface CompleteRow {
  result: 'done' | 'already-done' | 'superseded';
  runSucceeded: boolean;
  ready: ReadyStep[];
  runState: RunState | null;
}

const notRunning = (): CompleteResult => ({
  readyStepIds: [],
  ready: [],
  runSucceeded: false,
  alreadyDone: true,
  superseded: false,
  runState: undefined,
});

/**
 * Attempt ids come from the database; anything else cannot name an attempt (and must not reach
 * a bigint cast): null, which no attempt has.
 */
export function attemptParam(attemptId: string): string | null {
  return /^\d{1,18}$/.test(attemptId) ? attemptId : null;
}

/** A completion function's row as the repository answers it. */
export function toCompleteResult(row: CompleteRow | undefined): CompleteResult {
  if (!row) return notRunning();
  if (row.result !== 'done')
    return {
      ...notRunning(),
      superseded: row.result === 'superseded',
      runState: row.runState ?? undefined,
    };
  return {
    readyStepIds: row.ready.map((r) => r.stepId),
    ready: row.ready,
    runSucceeded: row.runSucceeded,
    alreadyDone: false,
    superseded: false,
    runState: row.runState ?? undefined,
  };
}
