import { sql, type Kysely } from 'kysely';
import type { DB } from './db';
import { isUuid } from './is-uuid';
import { lockRun } from './lock-run';
import type { ReadyStep } from './rows';

export type ResumeResult =
  | { outcome: 'resumed'; ready: ReadyStep[] }
  | { outcome: 'unknown' }
  /** The run is not `failed`, or `stepId` is not the step whose failure ended it. */
  | { outcome: 'not-resumable'; runState: string; stepState: string | null };

/**
 * Resume a run that failed at `stepId` (an operator replays its dead letter): in one transaction
 * under the run's lock, the run goes back to `running` (error and end cleared) and every step
 * that is not succeeded — the failed one, those cancelled when the run failed, those compensated
 * since — back to `pending` with its count of unfinished dependencies recomputed; those with none
 * left are `queued` and answered, to be dispatched. Undone work is done again. The caller makes
 * sure no compensation of the run is running (see `resumeRun` in @agentry/engine).
 */
export async function resumeRun(
  db: Kysely<DB>,
  now: Date,
  runId: string,
  stepId: string,
): Promise<ResumeResult> {
  if (!isUuid(runId)) return { outcome: 'unknown' };
  return db.transaction().execute(async (trx): Promise<ResumeResult> => {
    const run = await lockRun(trx, runId);
    if (!run) return { outcome: 'unknown' };
    const failed = await trx
      .selectFrom('steps')
      .select('state')
      .where('runId', '=', runId)
      .where('stepId', '=', stepId)
      .executeTakeFirst();
    if (run.state !== 'failed' || failed?.state !== 'failed') {
      return { outcome: 'not-resumable', runState: run.state, stepState: failed?.state ?? null };
    }
    await trx
      .updateTable('runs')
      .set({ state: 'running', error: null, updatedAt: now, finishedAt: null })
      .where('id', '=', runId)
      .execute();
    // Back to pending, each counting its dependencies that have not (or no longer) succeeded.
    await sql`
      update steps s set state = 'pending', output = null, compensated_at = null,
          finished_at = null, queued_at = null,
          pending_deps = (select count(*) from steps d
            where d.run_id = s.run_id and s.depends_on ? d.step_id and d.state <> 'succeeded')
        where s.run_id = ${runId}
          and s.state in ('cancelled', 'compensated', 'failed', 'pending')`.execute(trx);
    const ready = await trx
      .updateTable('steps')
      .set({ state: 'queued', queuedAt: now })
      .where('runId', '=', runId)
      .where('state', '=', 'pending')
      .where('pendingDeps', '=', 0)
      .returning(['stepId', 'maxAttempts', 'position'])
      .execute();
    return {
      outcome: 'resumed',
      ready: ready
        .sort((a, b) => a.position - b.position)
        .map(({ stepId: id, maxAttempts }) => ({ stepId: id, maxAttempts })),
    };
  });
}
