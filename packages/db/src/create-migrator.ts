import {
  Migrator,
  sql,
  type DatabaseIntrospector,
  type Kysely,
  type MigrationResultSet,
} from 'kysely';
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
  return new Migrator({
    db: withSchemaIntrospection(plain, schema),
    provider: migrationProvider,
    migrationTableSchema: schema,
  });
}

/**
 * `db` whose introspection lists only the tables of `schema`. Kysely's own lists the columns of
 * every table of every schema, calling `pg_get_serial_sequence` on each: a table another session
 * drops meanwhile (another schema migrating down, a test schema being dropped) makes that fail
 * with "relation does not exist". The migrator only asks whether its own tables exist.
 */
function withSchemaIntrospection(db: Kysely<unknown>, schema: string): Kysely<unknown> {
  const introspection: DatabaseIntrospector = {
    getSchemas: () => db.introspection.getSchemas(),
    async getTables() {
      const { rows } = await sql<{ name: string }>`
        select table_name as name from information_schema.tables
        where table_schema = ${schema}`.execute(db);
      return rows.map((r) => ({ name: r.name, schema, isView: false, columns: [] }));
    },
    async getMetadata() {
      return { tables: await this.getTables() };
    },
  };
  // Kysely keeps its state in private fields, so every other member is taken from `db` itself.
  return new Proxy(db, {
    get(target, property) {
      if (property === 'introspection') return introspection;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
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
