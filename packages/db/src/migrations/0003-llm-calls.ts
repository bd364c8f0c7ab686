import { sql, type Kysely } from 'kysely';

// Frozen in time: copied, not imported (see 0001).
const purposes = ['plan', 'generate'];
const outcomes = ['ok', 'invalid', 'error'];

const oneOf = (column: string, values: readonly string[]) =>
  sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;

/** Every model call with its run (tokens, cost, latency, outcome) and how each run was planned. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('llm_calls')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('run_id', 'uuid', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('step_id', 'text')
    .addColumn('purpose', 'text', (c) => c.notNull().check(oneOf('purpose', purposes)))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('answered_model', 'text')
    .addColumn('input_tokens', 'integer', (c) => c.notNull().check(sql`input_tokens >= 0`))
    .addColumn('output_tokens', 'integer', (c) => c.notNull().check(sql`output_tokens >= 0`))
    .addColumn('cost_usd', 'numeric', (c) => c.notNull().check(sql`cost_usd >= 0`))
    .addColumn('priced', 'boolean', (c) => c.notNull())
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull().check(oneOf('outcome', outcomes)))
    .addColumn('error_code', 'text')
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('llm_calls_run_id_idx').on('llm_calls').column('run_id').execute();
  await db.schema
    .createIndex('llm_calls_at_idx')
    .on('llm_calls')
    .columns(['at', 'provider', 'model'])
    .execute();
  await db.schema.alterTable('runs').addColumn('planning', 'jsonb').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').dropColumn('planning').execute();
  await db.schema.dropTable('llm_calls').execute();
}
