import type { Transaction } from 'kysely';
import type { RunState } from '@agentry/schema';
import type { DB } from './db';

/**
 * Lock a run's row for the rest of the transaction. Every transaction that changes a run's
 * steps takes this lock first (run, then step), which serialises them per run (so "was that the
 * last step?" has one answer) and keeps the lock order deadlock-free. `NO KEY UPDATE` does not
 * block the foreign-key checks of inserts into plans and steps.
 */
export function lockRun(
  trx: Transaction<DB>,
  runId: string,
): Promise<{ state: RunState } | undefined> {
  return trx
    .selectFrom('runs')
    .select('state')
    .where('id', '=', runId)
    .forNoKeyUpdate()
    .executeTakeFirst();
}
