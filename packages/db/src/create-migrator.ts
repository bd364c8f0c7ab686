import { Migrator, sql, type Kysely, type MigrationResultSet } from 'kysely';
import { AppError } from '@agentry/schema';
import type { DB } from './db';
import { migrationProvider } from './migration-provider';

/** One migration that ran (or was due to run) in a migrate call. */
export interface MigrationReportEntry {
  name: string;
  direction: 'up' | 'down';
  status: 'success' | 'error' | 'not-executed';
}

/**
 * A Migrator bound to the connection's current schema. Kysely looks for its bookkeeping tables
 * in every schema unless told which one, so without this a second schema on the same server
 * would find the first one's `kysely_migration` and never create its own.
 */
export async function createMigrator(db: Kysely<DB>): Promise<Migrator> {
  // Migrations are written in snake_case SQL; the camelCase plugin has no business there.
  const plain = db.withoutPlugins() as unknown as Kysely<unknown>;
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(
    plain,
  );
  const schema = rows[0]?.schema;
  if (!schema)
    throw new AppError('INTERNAL', 'no current schema: the search_path names no existing schema');
  return new Migrator({ db: plain, provider: migrationProvider, migrationTableSchema: schema });
}

/** Turn Kysely's result set into a report, throwing when it carries an error (it never throws itself). */
export function checkMigrationResult(resultSet: MigrationResultSet): MigrationReportEntry[] {
  const report: MigrationReportEntry[] = (resultSet.results ?? []).map((r) => ({
    name: r.migrationName,
    direction: r.direction === 'Up' ? 'up' : 'down',
    status: r.status === 'Success' ? 'success' : r.status === 'Error' ? 'error' : 'not-executed',
  }));
  if (resultSet.error !== undefined) {
    const failed = report.find((r) => r.status === 'error')?.name;
    const cause =
      resultSet.error instanceof Error ? resultSet.error : new Error(String(resultSet.error));
    throw new AppError('INTERNAL', `migration ${failed ?? '(setup)'} failed: ${cause.message}`, {
      cause,
      details: { migration: failed ?? null, report },
      retryable: false,
    });
  }
  return report;
}
