import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { redisKeyPrefix } from '@agentry/queue';
import { deleteKeys as deleteKeysUnder } from '@agentry/queue/testing';

/** The bench only ever talks to these two local servers. */
export const redisUrl = 'redis://127.0.0.1:6379';
export const databaseUrl = 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh queue prefix base (≤ 32 chars, the AGENTRY_QUEUE_PREFIX pattern): `bench-<tag>-<hex>`. */
export function uniqueBase(tag: string): string {
  return `bench-${tag}-${randomBytes(4).toString('hex')}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until it returns a value other than undefined; throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms: ${what}`);
    await sleep(options.intervalMs ?? 50);
  }
}

/** Run `fn` over `items` with at most `limit` calls in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** Delete every key of a queue prefix base (`{base}:*`). */
export function deleteKeys(base: string): Promise<void> {
  return deleteKeysUnder(redisKeyPrefix(base), redisUrl);
}

/** The slice of `pg.Pool` the reference pipeline uses. */
export interface PgPool {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}

/**
 * A `pg.Pool` on `schema`. `pg` is loaded from `@agentry/db`'s own dependencies so the reference
 * uses the very driver (and version) agentry uses, without adding a root dependency.
 */
export function createPgPool(
  schema: string,
  max: number,
  applicationName = 'agentry-bench-reference',
): PgPool {
  const require = createRequire(import.meta.resolve('@agentry/db'));
  const pg = require('pg') as {
    Pool: new (config: Record<string, unknown>) => PgPool & {
      on(event: 'error', listener: (err: Error) => void): void;
    };
  };
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    options: `-c search_path=${schema}`,
    application_name: applicationName,
  });
  pool.on('error', (err) => console.warn(`reference pool: idle client error: ${err.message}`));
  return pool;
}

const schemasToDrop = new Set<string>();

/** Remember a schema this run created, for {@link dropBenchSchemas}. */
export function dropAtExit(schema: string): void {
  if (!/^bench_[a-z0-9_]+$/.test(schema)) throw new Error(`not a bench schema: ${schema}`);
  schemasToDrop.add(schema);
}

/**
 * Drop the schemas this run created, once, at the end. Not per section: Kysely's migrator
 * introspects every schema of the database, so a schema dropped while another process (a test
 * run) migrates can fail that migration; one drop at the end keeps that window as short as it
 * gets. Never throws (reports instead).
 */
export async function dropBenchSchemas(): Promise<void> {
  if (schemasToDrop.size === 0) return;
  const pool = createPgPool('public', 1);
  try {
    for (const schema of schemasToDrop) {
      await pool
        .query(`drop schema if exists "${schema}" cascade`)
        .then(() => schemasToDrop.delete(schema))
        .catch((e: unknown) => console.warn(`could not drop schema ${schema}: ${String(e)}`));
    }
  } finally {
    await pool.end();
  }
}
