import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '@agentry/schema';
import { createTestDatabase, type TestDatabase } from '../src/testing';
import { migrateDown, migrateToLatest, migrationStatus, migrations } from '../src';
import { checkMigrationResult } from '../src/create-migrator';

const tables = ['audit_log', 'dead_letters', 'plans', 'runs', 'step_attempts', 'steps'];

describe('migrations on Postgres', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await t.close();
  });

  const ourTables = async () => {
    const { rows } = await sql<{ name: string }>`
      select table_name as name from information_schema.tables
      where table_schema = ${t.schema} and table_name not like 'kysely_%' order by 1`.execute(t.db);
    return rows.map((r) => r.name);
  };

  it('goes up, down to zero (every table gone) and up again', async () => {
    expect(await ourTables()).toEqual([]);
    expect(await migrationStatus(t.db)).toEqual([{ name: '0001-core-tables', executedAt: null }]);

    const up = await migrateToLatest(t.db);
    expect(up).toEqual([{ name: '0001-core-tables', direction: 'up', status: 'success' }]);
    expect(await ourTables()).toEqual(tables);
    const [status] = await migrationStatus(t.db);
    expect(status?.executedAt).toBeInstanceOf(Date);
    expect(await migrateToLatest(t.db)).toEqual([]);

    const down = await migrateDown(t.db, { to: 'zero' });
    expect(down).toEqual([{ name: '0001-core-tables', direction: 'down', status: 'success' }]);
    expect(await ourTables()).toEqual([]);
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_indexes where schemaname = ${t.schema} and tablename not like 'kysely_%'`.execute(
      t.db,
    );
    expect(rows[0]?.n).toBe(0);

    await migrateToLatest(t.db);
    expect(await ourTables()).toEqual(tables);
    expect(await migrateDown(t.db)).toEqual([
      { name: '0001-core-tables', direction: 'down', status: 'success' },
    ]);
    expect(await ourTables()).toEqual([]);
    await migrateToLatest(t.db);
  });

  it('refuses to "migrate down" to an unknown or unapplied migration', async () => {
    await expect(migrateDown(t.db, { to: 'nope' })).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(Object.keys(migrations)).toContain('0001-core-tables');
  });

  it('turns a failed result set into an AppError naming the migration', () => {
    const cause = new Error('relation "runs" already exists');
    let thrown: unknown;
    try {
      checkMigrationResult({
        error: cause,
        results: [{ migrationName: '0001-core-tables', direction: 'Up', status: 'Error' }],
      });
    } catch (error) {
      thrown = error;
    }
    expect(isAppError(thrown)).toBe(true);
    expect(thrown).toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining('0001-core-tables') as string,
    });
    expect((thrown as Error).cause).toBe(cause);
  });

  it('keeps each schema separate: another schema on the same server migrates on its own', async () => {
    const other = await createTestDatabase();
    try {
      expect(await migrationStatus(other.db)).toEqual([
        { name: '0001-core-tables', executedAt: expect.any(Date) },
      ]);
    } finally {
      await other.close();
    }
    // Closing leaves the schema for the run's teardown (dropTestSchemas) and this one untouched.
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_namespace where nspname = ${other.schema}`.execute(t.db);
    expect(rows[0]?.n).toBe(1);
    expect(await migrationStatus(t.db)).toEqual([
      { name: '0001-core-tables', executedAt: expect.any(Date) },
    ]);
  });
});
