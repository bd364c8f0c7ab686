import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '@agentry/schema';
import { createTestDatabase, type TestDatabase } from '../src/testing';
import {
  migrateDown,
  migrateToLatest,
  migrateUp,
  migrationStatus,
  migrations,
  schemaFingerprint,
  schemaSnapshot,
} from '../src';
import { checkMigrationResult } from '../src/create-migrator';

const coreTables = ['audit_log', 'dead_letters', 'plans', 'runs', 'step_attempts', 'steps'];
const tables = [
  'audit_log',
  'budget_alerts',
  'conversations',
  'dead_letters',
  'llm_calls',
  'plans',
  'runs',
  'step_attempts',
  'steps',
  'tenant_budgets',
  'tenant_spend',
  'tool_charges',
];
const names = [
  '0001-core-tables',
  '0002-step-functions',
  '0003-llm-calls',
  '0004-costs-reviews-conversations',
  '0005-fence-step-completion',
  '0006-step-batches',
];
const coreFunctions = ['agentry_complete_step', 'agentry_save_plan', 'agentry_start_attempt'];
// 0003 adds an overload of agentry_save_plan that also records the planning and the model calls.
// 0004 adds the spend trigger's function, the claim with the run's budget and the reviewed save.
// 0006 adds the batch claim and completion.
const functions = [
  'agentry_account_spend',
  'agentry_claim_step',
  'agentry_claim_steps',
  'agentry_complete_step',
  'agentry_complete_steps',
  'agentry_save_plan',
  'agentry_save_plan',
  'agentry_save_reviewed_plan',
  'agentry_start_attempt',
];

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
  const ourFunctions = async () => {
    const { rows } = await sql<{ name: string }>`
      select p.proname as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = ${t.schema} order by 1`.execute(t.db);
    return rows.map((r) => r.name);
  };

  const runColumns = async () => {
    const { rows } = await sql<{ name: string }>`
      select column_name as name from information_schema.columns
      where table_schema = ${t.schema} and table_name = 'runs'`.execute(t.db);
    return rows.map((r) => r.name);
  };

  const snapshot = () => schemaSnapshot(t.db);

  it('goes up, down to zero (every table gone) and up again', async () => {
    expect(await ourTables()).toEqual([]);
    expect(await migrationStatus(t.db)).toEqual(names.map((name) => ({ name, executedAt: null })));

    const up = await migrateToLatest(t.db);
    expect(up).toEqual(names.map((name) => ({ name, direction: 'up', status: 'success' })));
    expect(await ourTables()).toEqual(tables);
    expect(await ourFunctions()).toEqual(functions);
    const [status] = await migrationStatus(t.db);
    expect(status?.executedAt).toBeInstanceOf(Date);
    expect(await migrateToLatest(t.db)).toEqual([]);

    const down = await migrateDown(t.db, { to: 'zero' });
    expect(down).toEqual(
      [...names].reverse().map((name) => ({ name, direction: 'down', status: 'success' })),
    );
    expect(await ourTables()).toEqual([]);
    expect(await ourFunctions()).toEqual([]);
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_indexes where schemaname = ${t.schema} and tablename not like 'kysely_%'`.execute(
      t.db,
    );
    expect(rows[0]?.n).toBe(0);

    await migrateToLatest(t.db);
    await migrateDown(t.db, { to: '0003-llm-calls' });
    const before0004 = await snapshot();
    await migrateToLatest(t.db);
    expect(await ourTables()).toEqual(tables);
    // 0006 only adds the batch functions.
    expect(await migrateDown(t.db)).toEqual([
      { name: '0006-step-batches', direction: 'down', status: 'success' },
    ]);
    const before0006 = functions.filter((f) => !f.endsWith('_steps'));
    expect(await ourFunctions()).toEqual(before0006);
    // 0005 only replaces agentry_complete_step (fenced by the attempt).
    expect(await migrateDown(t.db)).toEqual([
      { name: '0005-fence-step-completion', direction: 'down', status: 'success' },
    ]);
    expect(await ourFunctions()).toEqual(before0006);
    // 0004 down restores the schema exactly as 0003 left it: columns, indexes, constraints,
    // triggers and every function's definition (agentry_complete_step is replaced by 0004).
    expect(await migrateDown(t.db)).toEqual([
      { name: '0004-costs-reviews-conversations', direction: 'down', status: 'success' },
    ]);
    expect(await snapshot()).toEqual(before0004);
    expect(before0004.routines.length).toBeGreaterThan(0);
    // One step down drops the call log and the run's planning record, and nothing else.
    expect(await migrateDown(t.db)).toEqual([
      { name: '0003-llm-calls', direction: 'down', status: 'success' },
    ]);
    expect(await ourTables()).toEqual(coreTables);
    expect(await ourFunctions()).toEqual(coreFunctions);
    expect(await runColumns()).not.toContain('planning');
    // The next removes the functions and keeps the tables.
    expect(await migrateDown(t.db)).toEqual([
      { name: '0002-step-functions', direction: 'down', status: 'success' },
    ]);
    expect(await ourTables()).toEqual(coreTables);
    expect(await ourFunctions()).toEqual([]);
    expect(await migrateDown(t.db)).toEqual([
      { name: '0001-core-tables', direction: 'down', status: 'success' },
    ]);
    expect(await ourTables()).toEqual([]);
    await migrateToLatest(t.db);
    expect(await ourFunctions()).toEqual(functions);
    expect(await ourTables()).toEqual(tables);
    expect(await runColumns()).toContain('planning');
  });

  it('every migration: down restores the schema before it exactly, up again the schema after it', async () => {
    await migrateDown(t.db, { to: 'zero' });
    for (const name of names) {
      const before = await snapshot();
      expect(await migrateUp(t.db)).toEqual([{ name, direction: 'up', status: 'success' }]);
      const after = await snapshot();
      expect(after, `${name} changes the schema`).not.toEqual(before);
      expect(await migrateDown(t.db)).toEqual([{ name, direction: 'down', status: 'success' }]);
      // Columns, indexes, constraints, triggers and every function's body, compared as values.
      expect(await snapshot(), `${name} down`).toEqual(before);
      await migrateUp(t.db, { to: name });
      expect(await snapshot(), `${name} up again`).toEqual(after);
    }
    const latest = await schemaFingerprint(t.db);
    expect(latest).toMatch(/^sha256:[0-9a-f]{64}$/);
    await migrateDown(t.db);
    expect(await schemaFingerprint(t.db)).not.toBe(latest);
    await migrateToLatest(t.db);
    expect(await schemaFingerprint(t.db)).toBe(latest);
  });

  it('refuses to "migrate up" to an unknown or applied migration', async () => {
    await expect(migrateUp(t.db, { to: 'nope' })).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(migrateUp(t.db, { to: '0001-core-tables' })).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringContaining('would go down') as string,
    });
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
      expect(await migrationStatus(other.db)).toEqual(
        names.map((name) => ({ name, executedAt: expect.any(Date) })),
      );
    } finally {
      await other.close();
    }
    // Closing leaves the schema for the run's teardown (dropTestSchemas) and this one untouched.
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_namespace where nspname = ${other.schema}`.execute(t.db);
    expect(rows[0]?.n).toBe(1);
    expect(await migrationStatus(t.db)).toEqual(
      names.map((name) => ({ name, executedAt: expect.any(Date) })),
    );
  });
});
