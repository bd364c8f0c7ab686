import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { migrateToLatest } from './migrate-to-latest';
import { openDatabase, type Database, type DatabaseOptions } from './open-database';

/** A migrated database in a schema of its own, dropped on close. */
export interface TestDatabase extends Database {
  /** The throwaway schema, e.g. `t_db_3f9a1c0b2e`. */
  schema: string;
}

/** Options of {@link createTestDatabase}. */
export interface TestDatabaseOptions extends Pick<DatabaseOptions, 'poolMax' | 'log'> {
  /** @default process.env.AGENTRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' */
  url?: string;
  /** Schema name prefix (lower-case letters, digits, `_`). @default 't_db' */
  prefix?: string;
  /** Run the migrations. @default true */
  migrate?: boolean;
}

/**
 * Open the test Postgres in a fresh schema (`<prefix>_<random>`), migrated to the latest
 * version. `close()` drops the schema with everything in it, then closes the pool; call it in
 * `afterAll` (or use `await using`).
 */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const url =
    options.url ??
    process.env['AGENTRY_TEST_DATABASE_URL'] ??
    'postgres://postgres@127.0.0.1:5432/test';
  const schema = `${options.prefix ?? 't_db'}_${randomBytes(5).toString('hex')}`;
  const database = await openDatabase({
    url,
    schema,
    poolMax: options.poolMax ?? 5,
    log: options.log,
  });
  const dropAndClose = async () => {
    try {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(database.db);
    } finally {
      await database.close();
    }
  };
  try {
    if (options.migrate !== false) await migrateToLatest(database.db);
  } catch (error) {
    await dropAndClose();
    throw error;
  }
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= dropAndClose());
  return { ...database, schema, close, [Symbol.asyncDispose]: close };
}
