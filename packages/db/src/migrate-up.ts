import type { Kysely } from 'kysely';
import { AppError } from '@agentry/schema';
import type { DB } from './db';
import { checkMigrationResult, createMigrator, type MigrationReportEntry } from './create-migrator';
import { migrations } from './migration-provider';

/**
 * Apply pending migrations up to and including `to` (one at a time, each in its own transaction),
 * or only the next one without `to`. Throws `AppError('VALIDATION')` for an unknown name or one
 * already applied (that would be a migration down); `AppError('INTERNAL')` naming a failing one.
 * `migrateToLatest` is what deployments run; this is for staged upgrades and the drill.
 */
export async function migrateUp(
  db: Kysely<DB>,
  options: { to?: string } = {},
): Promise<MigrationReportEntry[]> {
  const migrator = await createMigrator(db);
  const { to } = options;
  if (to === undefined) return checkMigrationResult(await migrator.migrateUp());
  if (!(to in migrations)) {
    throw new AppError('VALIDATION', `unknown migration "${to}"`, {
      details: { known: Object.keys(migrations) },
    });
  }
  const applied =
    (await migrator.getMigrations()).find((m) => m.name === to)?.executedAt !== undefined;
  if (applied)
    throw new AppError(
      'VALIDATION',
      `migration "${to}" is applied; migrating up to it would go down`,
    );
  return checkMigrationResult(await migrator.migrateTo(to));
}
