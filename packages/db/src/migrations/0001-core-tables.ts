import { sql, type Kysely } from 'kysely';

// Frozen in time: the state lists are copied, not imported, so a later change to the
// schema package cannot rewrite what this migration did.
const runStates = [
  'pending',
  'awaiting_approval',
  'running',
  'succeeded',
  'failed',
  'rejected',
  'cancelled',
];
const stepStates = [
  'pending',
  'queued',
  'running',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
  'compensated',
];
const riskLevels = ['low', 'medium', 'high', 'critical'];
const outcomes = ['running', 'succeeded', 'failed', 'cancelled'];

const oneOf = (column: string, values: readonly string[]) =>
  sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;

/** Runs, plans, steps, step attempts, dead letters and the audit log. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('runs')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('conversation_id', 'text')
    .addColumn('idempotency_key', 'text')
    .addColumn('plan_job_id', 'text', (c) => c.unique())
    .addColumn('correlation_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) =>
      c.notNull().defaultTo('pending').check(oneOf('state', runStates)),
    )
    .addColumn('dry_run', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('intent', 'jsonb', (c) => c.notNull())
    .addColumn('budget_usd', 'numeric')
    .addColumn('error', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('runs_tenant_idempotency_key_uq')
    .on('runs')
    .columns(['tenant_id', 'idempotency_key'])
    .unique()
    .where(sql.ref('idempotency_key'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('runs_state_updated_at_idx')
    .on('runs')
    .columns(['state', 'updated_at'])
    .execute();
  await db.schema
    .createIndex('runs_tenant_created_at_idx')
    .on('runs')
    .columns(['tenant_id', 'created_at desc'])
    .execute();

  await db.schema
    .createTable('plans')
    .addColumn('run_id', 'uuid', (c) => c.primaryKey().references('runs.id').onDelete('cascade'))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('produced_by', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('body', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('steps')
    .addColumn('run_id', 'uuid', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('step_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('tool', 'text', (c) => c.notNull())
    .addColumn('input', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('depends_on', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('pending_deps', 'integer', (c) => c.notNull().check(sql`pending_deps >= 0`))
    .addColumn('timeout_ms', 'integer', (c) => c.notNull())
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('risk', 'text', (c) => c.notNull().check(oneOf('risk', riskLevels)))
    .addColumn('state', 'text', (c) => c.notNull().check(oneOf('state', stepStates)))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('output', 'jsonb')
    .addColumn('error', 'jsonb')
    .addColumn('queued_at', 'timestamptz')
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addColumn('compensated_at', 'timestamptz')
    .addPrimaryKeyConstraint('steps_pk', ['run_id', 'step_id'])
    .execute();

  await db.schema
    .createTable('step_attempts')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('run_id', 'uuid', (c) => c.notNull())
    .addColumn('step_id', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('worker', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull().check(oneOf('outcome', outcomes)))
    .addColumn('error', 'jsonb')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addColumn('duration_ms', 'integer')
    .addForeignKeyConstraint(
      'step_attempts_step_fk',
      ['run_id', 'step_id'],
      'steps',
      ['run_id', 'step_id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('step_attempts_step_idx')
    .on('step_attempts')
    .columns(['run_id', 'step_id'])
    .execute();

  await db.schema
    .createTable('dead_letters')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('source_queue', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('job_name', 'text', (c) => c.notNull())
    .addColumn('run_id', 'uuid')
    .addColumn('step_id', 'text')
    .addColumn('correlation_id', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('error_code', 'text', (c) => c.notNull())
    .addColumn('error', 'jsonb')
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('failed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('replayed_at', 'timestamptz')
    .addColumn('replay_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex('dead_letters_unreplayed_job_uq')
    .on('dead_letters')
    .columns(['source_queue', 'job_id'])
    .unique()
    .where(sql.ref('replayed_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('dead_letters_failed_at_idx')
    .on('dead_letters')
    .column('failed_at')
    .execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await db.schema
    .createIndex('audit_log_target_at_idx')
    .on('audit_log')
    .columns(['target_id', 'at'])
    .execute();
}

/** Drops everything {@link up} created (indexes go with their tables). */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['audit_log', 'dead_letters', 'step_attempts', 'steps', 'plans', 'runs']) {
    await db.schema.dropTable(table).execute();
  }
}
