import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src';

const url = process.env['AGENTRY_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('openDatabase (Postgres)', () => {
  it('logs one password-free line, does not migrate, and closes twice safely', async () => {
    const lines: object[] = [];
    const database = await openDatabase({
      url: url.replace('postgres@', 'postgres:hunter2@'),
      log: { info: (obj, msg) => lines.push({ ...obj, msg }) },
    });
    expect(database.kind).toBe('postgres');
    expect(database.describe).toMatch(/^postgres 127\.0\.0\.1:5432\/test$/);
    expect(JSON.stringify(lines)).not.toContain('hunter2');
    expect(lines).toHaveLength(1);
    const { rows } = await sql<{ n: number }>`select 1 as n`.execute(database.db);
    expect(rows).toEqual([{ n: 1 }]);
    await database.close();
    await database.close();
  });

  it('fails fast with UNAVAILABLE when the server is unreachable', async () => {
    await expect(
      openDatabase({ url: 'postgres://u:pw@127.0.0.1:1/none', connectTimeoutMs: 1_000 }),
    ).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.not.stringContaining('pw@') as string,
    });
  });

  it('refuses a schema name it would have to quote', async () => {
    await expect(openDatabase({ url, schema: 'x; drop table runs' })).rejects.toMatchObject({
      code: 'VALIDATION',
    });
  });

  it('applies statement_timeout to every connection', async () => {
    await using database = await openDatabase({ url, statementTimeoutMs: 50, poolMax: 2 });
    await expect(sql`select pg_sleep(1)`.execute(database.db)).rejects.toThrow(/statement timeout/);
  });
});
