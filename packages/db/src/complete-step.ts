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
   * The run's state after this call; `failed` or `cancelled` on a step that was recorded as
   * succeeded means the run ended while it was in flight (so it needs compensating).
   * Undefined when the run does not exist.
   */
  runState: RunState | undefined;
}

/**
 * `StepRepository.complete` in one round trip: the `agentry_complete_step` function
 * (migration 0002) locks the run, then the step, and records everything in the same call.
 */
export async function completeStep(
  db: Kysely<DB>,
  now: Date,
  runId: string,
  stepId: string,
  attemptId: string,
  output: unknown,
): Promise<CompleteResult> {
  const notRunning: CompleteResult = {
    readyStepIds: [],
    ready: [],
    runSucceeded: false,
    alreadyDone: true,
    runState: undefined,
  };
  if (!isUuid(runId)) return notRunning;
  // Attempt ids come from the database; anything else cannot name an attempt (and must not
  // reach a bigint cast).
  const attempt = /^\d{1,18}$/.test(attemptId) ? attemptId : null;
  const { rows } = await sql<{
    result: 'done' | 'already-done';
    runSucceeded: boolean;
    ready: ReadyStep[];
    runState: RunState | null;
  }>`
    select r.result, r.run_succeeded, r.ready, r.run_state
    from agentry_complete_step(${runId}::uuid, ${stepId}::text, ${attempt}::bigint,
      ${toJson(output)}::jsonb, ${now}::timestamptz) r`.execute(db);
  const row = rows[0];
  if (!row) return notRunning;
  if (row.result === 'already-done') return { ...notRunning, runState: row.runState ?? undefined };
  return {
    readyStepIds: row.ready.map((r) => r.stepId),
    ready: row.ready,
    runSucceeded: row.runSucceeded,
    alreadyDone: false,
    runState: row.runState ?? undefined,
  };
}
