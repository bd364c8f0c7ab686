import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@agentry/db/testing';
import { runCli } from './support/cli-fleet';

const databaseUrl =
  process.env.AGENTRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** `agentry migrate status | up | down` on a fresh schema named by the environment. */
describe('agentry migrate', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    database = await createTestDatabase({ prefix: 't_cli', migrate: false });
    env = { DATABASE_URL: databaseUrl, AGENTRY_DB_SCHEMA: database.schema };
  });
  afterAll(async () => {
    await database?.close();
  });

  const tables = async () =>
    (await database.db.introspection.getTables({ withInternalKyselyTables: false }))
      .filter((t) => t.schema === database.schema)
      .map((t) => t.name);

  it('shows pending migrations, applies them, rolls back to zero and up again', async () => {
    const pending = await runCli(['migrate', 'status'], env);
    expect(pending.out.split('\n')[0]).toMatch(
      new RegExp(`^database: postgres .*${database.schema}`),
    );
    expect(pending.out).toMatch(/NAME\s+EXECUTEDAT/);
    expect(pending.out).toMatch(/0001-core-tables\s+-/);
    expect(await tables()).toEqual([]);

    const up = await runCli(['migrate', 'up'], env);
    expect(up.out).toMatch(/0001-core-tables\s+up\s+success/);
    expect(await tables()).toEqual(expect.arrayContaining(['runs', 'steps', 'dead_letters']));
    expect((await runCli(['migrate', 'up'], env)).out).toMatch(/already up to date/);
    expect((await runCli(['migrate', 'status'], env)).out).toMatch(
      /0001-core-tables\s+\d{4}-\d\d-\d\dT/,
    );

    const down = await runCli(['migrate', 'down', '--to', 'zero'], env);
    expect(down.out).toMatch(/0001-core-tables\s+down\s+success/);
    expect(await tables()).toEqual([]);
    expect((await runCli(['migrate', 'down'], env)).out).toMatch(/nothing to roll back/);

    expect((await runCli(['migrate', 'up'], env)).out).toMatch(/0001-core-tables\s+up\s+success/);
  });

  it('status --json and fingerprint: what a deploy records as its rollback point', async () => {
    await runCli(['migrate', 'up'], env);
    const status = await runCli(['migrate', 'status', '--json'], env);
    // stdout is the JSON alone (the database line goes to stderr), so scripts can parse it.
    const parsed = JSON.parse(status.out) as {
      current: string | null;
      migrations: Array<{ name: string; executedAt: string | null }>;
    };
    const names = parsed.migrations.map((m) => m.name);
    expect(parsed.current).toBe(names.at(-1));
    const latest = (await runCli(['migrate', 'fingerprint'], env)).out.trim();
    expect(latest).toMatch(/^sha256:[0-9a-f]{64}$/);

    // Down one and up again (the drill): same schema, same current migration.
    await runCli(['migrate', 'down'], env);
    const lower = JSON.parse((await runCli(['migrate', 'status', '--json'], env)).out) as {
      current: string | null;
    };
    expect(lower.current).toBe(names.at(-2));
    expect((await runCli(['migrate', 'fingerprint'], env)).out.trim()).not.toBe(latest);
    const up = await runCli(['migrate', 'up', '--to', names.at(-1) ?? ''], env);
    expect(up.out).toMatch(new RegExp(`${names.at(-1) ?? ''}\\s+up\\s+success`));
    expect((await runCli(['migrate', 'fingerprint'], env)).out.trim()).toBe(latest);

    await runCli(['migrate', 'down', '--to', 'zero'], env);
    const empty = JSON.parse((await runCli(['migrate', 'status', '--json'], env)).out) as {
      current: string | null;
    };
    expect(empty.current).toBeNull();
  });
});
