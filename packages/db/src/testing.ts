import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { Intent } from '@agentry/schema';
import type { Repositories } from './create-repositories';
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
 * version. `close()` closes the pool; the schema stays until {@link dropTestSchemas} runs at the end of
 * the test run. Call it in `afterAll` (or use `await using`).
 */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const url = options.url ?? testDatabaseUrl();
  const schema = `${options.prefix ?? 't_db'}_${testRunToken()}${randomBytes(5).toString('hex')}`;
  const database = await openDatabase({
    url,
    schema,
    poolMax: options.poolMax ?? 5,
    log: options.log,
  });
  try {
    if (options.migrate !== false) await migrateToLatest(database.db);
  } catch (error) {
    await database.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= database.close());
  return { ...database, schema, close, [Symbol.asyncDispose]: close };
}

/**
 * Drop every test schema (`t_…`) on the test server. Run once when a test run ends (vitest's
 * global teardown), not per file: Kysely's migrator introspects every schema of the database, and
 * a schema dropped while another file migrates makes that migration fail with "schema … does not
 * exist". Returns the number of schemas dropped.
 */
export async function dropTestSchemas(url = testDatabaseUrl()): Promise<number> {
  const database = await openDatabase({ url, poolMax: 1 });
  // Only this run's schemas (their names carry its token): another run on the same server keeps
  // its own. Without a token (a file run outside vitest's global setup), every test schema.
  const token = testRunToken();
  const pattern = token === '' ? '^t_[a-z0-9_]+$' : `^t_[a-z0-9_]*_${token}[a-z0-9]*$`;
  try {
    const { rows } = await sql<{ nspname: string }>`
      select nspname from pg_namespace where nspname ~ ${pattern}`.execute(database.db);
    for (const { nspname } of rows) {
      await sql`drop schema if exists ${sql.id(nspname)} cascade`.execute(database.db);
    }
    return rows.length;
  } finally {
    await database.close();
  }
}

/**
 * The token of the current test run (`AGENTRY_TEST_RUN`, set by vitest's global setup and
 * inherited by its workers; `r` and 6 lower-case hex), or empty outside one.
 */
function testRunToken(): string {
  const token = process.env['AGENTRY_TEST_RUN'] ?? '';
  return /^r[0-9a-f]{6}$/.test(token) ? token : '';
}

/** The test server: `AGENTRY_TEST_DATABASE_URL`, else the local `test` database. */
export function testDatabaseUrl(): string {
  return process.env['AGENTRY_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/**
 * Spend `usd` for `tenantId`: a new run with one priced planning call, recorded like the planner
 * records one (so the spend trigger counts it for the run and the tenant's month).
 */
export async function recordSpend(
  repos: Pick<Repositories, 'runs' | 'llmCalls'>,
  tenantId: string,
  usd: number,
): Promise<string> {
  const runId = randomUUID();
  const intent = Intent.parse({ text: 'spend', tenantId, dryRun: false });
  await repos.runs.create({ id: runId, tenantId, correlationId: runId, dryRun: false, intent });
  await repos.llmCalls.record([
    {
      runId,
      purpose: 'plan',
      provider: 'primary',
      model: 'gpt-test',
      inputTokens: 1,
      outputTokens: 1,
      costUsd: usd,
      priced: true,
      latencyMs: 1,
      outcome: 'ok',
    },
  ]);
  return runId;
}
