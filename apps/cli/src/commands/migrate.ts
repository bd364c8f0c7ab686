import type { Command } from 'commander';
import {
  migrateDown,
  migrateToLatest,
  migrateUp,
  migrationStatus,
  schemaFingerprint,
  type Database,
} from '@agentry/db';
import { openConfiguredDatabase } from '@agentry/engine';
import { openCliSecretStore } from '../cli-secrets';
import { table } from '../render';

/** The database of `env`; `DATABASE_URL` and the password may be secret references. */
async function withDatabase<T>(
  env: Record<string, string | undefined>,
  fn: (db: Database) => Promise<T>,
  options: { quiet?: boolean } = {},
): Promise<T> {
  const secrets = await openCliSecretStore(env);
  const { store, config } = secrets;
  try {
    const database = await openConfiguredDatabase(config, store);
    try {
      // Machine-readable output (--json, fingerprint) is the only line on stdout.
      if (options.quiet) console.error(`database: ${database.describe}`);
      else console.log(`database: ${database.describe}`);
      return await fn(database);
    } finally {
      await database.close();
    }
  } finally {
    await secrets.close();
  }
}

/** `env`: the environment `buildProgram` was given (DATABASE_URL, AGENTRY_DB_SCHEMA, …), not
 * `process.env` behind its back. */
export function migrateCommands(program: Command, env: Record<string, string | undefined>) {
  const migrate = program
    .command('migrate')
    .description('database migrations (DATABASE_URL, or the embedded database)');
  migrate
    .command('up')
    .description('apply every pending migration, or up to (including) --to NAME')
    .option('--to <name>', 'last migration to apply')
    .action((opts: { to?: string }) =>
      withDatabase(env, async ({ db }) => {
        const report = opts.to ? await migrateUp(db, { to: opts.to }) : await migrateToLatest(db);
        console.log(
          report.length === 0
            ? 'already up to date'
            : table(report, ['name', 'direction', 'status']),
        );
      }),
    );
  migrate
    .command('down')
    .description(
      'roll back one migration, or down to (excluding) --to NAME; --to zero drops everything',
    )
    .option('--to <name>', 'migration to stop at, or "zero"')
    .action((opts: { to?: string }) =>
      withDatabase(env, async ({ db }) => {
        const report = await migrateDown(db, opts.to ? { to: opts.to } : {});
        console.log(
          report.length === 0
            ? 'nothing to roll back'
            : table(report, ['name', 'direction', 'status']),
        );
      }),
    );
  migrate
    .command('status')
    .description('every migration and when it was applied; --json adds the current one')
    .option('--json', 'print {"current": name|null, "migrations": [...]} only')
    .action((opts: { json?: boolean }) =>
      withDatabase(
        env,
        async ({ db }) => {
          const migrations = await migrationStatus(db);
          if (!opts.json) {
            console.log(table(migrations, ['name', 'executedAt']));
            return;
          }
          const current = migrations.filter((m) => m.executedAt !== null).at(-1)?.name ?? null;
          console.log(JSON.stringify({ current, migrations }));
        },
        { quiet: opts.json === true },
      ),
    );
  migrate
    .command('fingerprint')
    .description(
      'sha256 of the schema (columns, indexes, constraints, functions, triggers): equal before ' +
        'and after a down-and-up means the rollback restored it',
    )
    .action(() =>
      withDatabase(env, async ({ db }) => console.log(await schemaFingerprint(db)), {
        quiet: true,
      }),
    );
}
