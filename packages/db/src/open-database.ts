import { mkdir } from 'node:fs/promises';
import { CamelCasePlugin, Kysely, PostgresDialect, sql, type Dialect } from 'kysely';
import pg from 'pg';
import { AppError, toError } from '@agentry/schema';
import type { DB } from './db';
import { describePostgresUrl } from './describe-postgres-url';
import { reauthenticatingPool } from './reauthenticating-pool';
import { unavailableAsAppError } from './unavailable-as-app-error';

/** The logger shape this package needs (a pino logger fits). */
export interface DatabaseLogger {
  info(obj: object, msg: string): void;
  warn?(obj: object, msg: string): void;
}

/** How to reach the database. */
export interface DatabaseOptions {
  /** A `postgres://` URL. Without it, an embedded PGlite database is used. */
  url?: string;
  /**
   * Where the embedded database keeps its files (created if missing). One process at a time.
   * @default '.agentry/pgdata'
   */
  dataDir?: string;
  /**
   * A schema every connection uses as its `search_path` (created if missing); tests use one
   * per file for isolation. Lower-case letters, digits and `_` only.
   */
  schema?: string;
  /**
   * The password, read for every new connection (pg calls it per connect): a secret store's
   * `get`, so a rotated password is used by the next connection without a restart. Overrides a
   * password in `url`.
   */
  password?: () => Promise<string>;
  /**
   * Called when the server refuses the password (28P01); the connection is then tried once more,
   * reading `password` again. Give it the secret store's `invalidate` of the password reference.
   */
  onAuthFailure?: () => void;
  /** @default 10 */
  poolMax?: number;
  /** How long to wait for a connection (TCP connect or a free pool slot). @default 5000 */
  connectTimeoutMs?: number;
  /** Server-side `statement_timeout` of every connection (Postgres only). @default 30000 */
  statementTimeoutMs?: number;
  log?: DatabaseLogger;
}

/** An open database. Close it once (or twice: the second call is a no-op). */
export interface Database {
  db: Kysely<DB>;
  kind: 'postgres' | 'pglite';
  /** Where it is, password-free: `postgres 127.0.0.1:5432/test` or `pglite .agentry/pgdata`. */
  describe: string;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const schemaPattern = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Open Postgres (with `url`, through a `pg.Pool`) or embedded PGlite (without). Does not migrate:
 * that is the `migrate` command's job. With `url`, the first connection is made here, so a
 * wrong URL or a down server fails now, with the password-free description in the message.
 */
export async function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  const { schema } = options;
  if (schema !== undefined && !schemaPattern.test(schema)) {
    throw new AppError(
      'VALIDATION',
      `invalid schema name "${schema}": lower-case letters, digits and "_" only`,
    );
  }
  const opened =
    options.url === undefined ? await openPglite(options) : openPostgres(options.url, options);
  const db = new Kysely<DB>({
    dialect: opened.dialect,
    plugins: [new CamelCasePlugin({ maintainNestedObjectKeys: true })],
  });
  try {
    if (schema !== undefined) await ensureSchema(db, schema, opened.kind);
    else await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new AppError('UNAVAILABLE', `cannot open ${opened.describe}: ${toError(error).message}`, {
      cause: error,
    });
  }
  options.log?.info(
    { database: opened.kind, where: opened.describe },
    `database: ${opened.describe}`,
  );
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= db.destroy());
  return { db, kind: opened.kind, describe: opened.describe, close, [Symbol.asyncDispose]: close };
}

interface Opened {
  dialect: Dialect;
  kind: Database['kind'];
  describe: string;
}

function openPostgres(url: string, options: DatabaseOptions): Opened {
  const describe = describePostgresUrl(url, options.schema);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    keepAlive: true,
    application_name: 'agentry',
    ...(options.password === undefined ? {} : { password: options.password }),
    // Startup parameter: applies to every connection before any query runs on it.
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
  });
  // An idle client losing its server (restart, failover) emits 'error' on the pool; unhandled,
  // that would crash the process. The pool drops the client and makes a new one when needed.
  pool.on('error', (error) => {
    const log = options.log;
    const fields = { database: 'postgres', where: describe, err: { message: error.message } };
    if (log?.warn) log.warn(fields, 'idle database connection failed');
    else log?.info(fields, 'idle database connection failed');
  });
  const onAuthFailure = options.onAuthFailure;
  return {
    dialect: new PostgresDialect({
      pool: unavailableAsAppError(
        onAuthFailure === undefined ? pool : reauthenticatingPool(pool, onAuthFailure),
      ),
    }),
    kind: 'postgres',
    describe,
  };
}

async function openPglite(options: DatabaseOptions): Promise<Opened> {
  const dataDir = options.dataDir ?? '.agentry/pgdata';
  // Loaded only when used: a Postgres deployment never loads the embedded engine (and its wasm),
  // and the images do not contain it.
  const [{ PGlite }, { PGliteDialect }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('kysely-pglite-dialect'),
  ]).catch((e: unknown) => {
    throw new AppError(
      'VALIDATION',
      'DATABASE_URL is not set and the embedded database (PGlite) is not installed here ' +
        '(the container images never contain it): set DATABASE_URL to a PostgreSQL connection ' +
        'string or a secret reference to one',
      { cause: toError(e), retryable: false },
    );
  });
  await mkdir(dataDir, { recursive: true });
  const client = await PGlite.create({ dataDir });
  return { dialect: new PGliteDialect(client), kind: 'pglite', describe: `pglite ${dataDir}` };
}

async function ensureSchema(db: Kysely<DB>, schema: string, kind: Database['kind']): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (error) {
    // Two processes racing on `if not exists` can still collide on the catalog's unique index.
    const { rows } = await sql<{
      n: number;
    }>`select 1 as n from pg_namespace where nspname = ${schema}`.execute(db);
    if (rows.length === 0) throw error;
  }
  // PGlite has one session, so setting it once covers every query; Postgres got it at startup.
  if (kind === 'pglite') await sql`set search_path to ${sql.id(schema)}`.execute(db);
}
