import type { Kysely } from 'kysely';
import type { DB } from './db';
import { checkMigrationResult, createMigrator, type MigrationReportEntry } from './create-migrator';

/**
 * Apply every pending migration, each in its own transaction, under Kysely's advisory lock (so
 * two `migrate` commands never interleave). Returns what ran; throws `AppError('INTERNAL')`
 * naming the failing migration (which was rolled back) with the database error as `cause`.
 * Workers never call this on boot; the `migrate` command or Job does.
 */
export async function migrateToLatest(db: Kysely<DB>): Promise<MigrationReportEntry[]> {
  const migrator = await createMigrator(db);
  return checkMigrationResult(await migrator.migrateToLatest());
}
