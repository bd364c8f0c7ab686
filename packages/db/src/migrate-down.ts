import { NO_MIGRATIONS, type Kysely } from 'kysely';
import { AppError } from '@agentry/schema';
import type { DB } from './db';
import { checkMigrationResult, createMigrator, type MigrationReportEntry } from './create-migrator';
import { migrations } from './migration-provider';

/** Where {@link migrateDown} stops. */
export interface MigrateDownOptions {
  /**
   * The migration to leave as the latest applied one, or `'zero'` to undo every migration.
   * @default one step down
   */
  to?: string;
}

/**
 * Roll migrations back with their `down`. Throws `AppError('VALIDATION')` when `to` is not a
 * migration that is currently applied (that would be a migration up), and `AppError('INTERNAL')`
 * naming the failing migration when a `down` fails.
 */
export async function migrateDown(
  db: Kysely<DB>,
  options: MigrateDownOptions = {},
): Promise<MigrationReportEntry[]> {
  const migrator = await createMigrator(db);
  const { to } = options;
  if (to === undefined) return checkMigrationResult(await migrator.migrateDown());
  if (to === 'zero') return checkMigrationResult(await migrator.migrateTo(NO_MIGRATIONS));
  if (!(to in migrations)) {
    throw new AppError('VALIDATION', `unknown migration "${to}"`, {
      details: { known: Object.keys(migrations) },
    });
  }
  const applied =
    (await migrator.getMigrations()).find((m) => m.name === to)?.executedAt !== undefined;
  if (!applied)
    throw new AppError(
      'VALIDATION',
      `migration "${to}" is not applied; migrating down to it would go up`,
    );
  return checkMigrationResult(await migrator.migrateTo(to));
}
