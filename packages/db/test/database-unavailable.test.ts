import { sql } from 'kysely';
import pg from 'pg';
import { isAppError, isDatabaseUnavailable } from '@agentry/schema';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src';
import { testDatabaseUrl } from '../src/testing';
import { isConnectionFailure, unavailableAsAppError } from '../src/unavailable-as-app-error';

const url = testDatabaseUrl();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a database that goes away', () => {
  it('a connection that cannot be made is UNAVAILABLE (database), not the raw socket error', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://u@127.0.0.1:1/none', max: 1 });
    const caught: unknown = await unavailableAsAppError(pool)
      .connect()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    await pool.end();
    expect(isDatabaseUnavailable(caught)).toBe(true);
    expect(isAppError(caught) && caught.details?.retryAfterMs).toBeGreaterThan(0);
  });

  it('a session the server ends mid-transaction fails its next statement as UNAVAILABLE, without crashing the process', async () => {
    await using database = await openDatabase({ url, poolMax: 2 });
    await using killer = await openDatabase({ url, poolMax: 1 });
    const caught: unknown = await database.db
      .transaction()
      .execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        // As a server shutdown does: FATAL 57P01 to a session that is between two statements.
        await sql`select pg_terminate_backend(${rows[0]?.pid})`.execute(killer.db);
        await sleep(200);
        await sql`select 1`.execute(trx);
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isDatabaseUnavailable(caught)).toBe(true);
    // The pool dropped the dead session and serves the next query on a new one.
    expect((await sql<{ n: number }>`select 1 as n`.execute(database.db)).rows).toEqual([{ n: 1 }]);
  });

  it('tells connection failures from query errors', () => {
    const coded = (code: string) => Object.assign(new Error('x'), { code });
    expect(isConnectionFailure(coded('ECONNREFUSED'))).toBe(true);
    expect(isConnectionFailure(coded('57P01'))).toBe(true);
    expect(isConnectionFailure(coded('57P03'))).toBe(true);
    expect(isConnectionFailure(coded('08006'))).toBe(true);
    expect(isConnectionFailure(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionFailure(new AggregateError([coded('ECONNREFUSED')]))).toBe(true);
    // A constraint, a syntax error, a statement timeout: the query's fault, not the server's.
    expect(isConnectionFailure(coded('23505'))).toBe(false);
    expect(isConnectionFailure(coded('42601'))).toBe(false);
    expect(isConnectionFailure(coded('57014'))).toBe(false);
    expect(isConnectionFailure('ECONNREFUSED')).toBe(false);
  });
});
