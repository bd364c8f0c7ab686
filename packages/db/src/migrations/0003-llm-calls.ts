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
  await saveRecordedPlan.execute(db);
}

/**
 * `agentry_save_plan` (0002) with the planning record and the model calls, still one round trip:
 * the calls are stored whatever the run's state (they were paid for), the planning record only
 * while the run is pending, and then the plan is saved as before, in the same transaction.
 */
const saveRecordedPlan = sql`
create function agentry_save_plan(
  p_run_id uuid, p_next text, p_source text, p_produced_by text, p_summary text, p_hash text,
  p_body jsonb, p_steps jsonb, p_now timestamptz, p_planning jsonb, p_calls jsonb
) returns table (result text, roots jsonb)
language plpgsql volatile as $fn$
begin
  insert into llm_calls (run_id, step_id, purpose, provider, model, answered_model, input_tokens,
    output_tokens, cost_usd, priced, latency_ms, outcome, error_code, at)
  select p_run_id, c.step_id, c.purpose, c.provider, c.model, c.answered_model, c.input_tokens,
    c.output_tokens, c.cost_usd, c.priced, c.latency_ms, c.outcome, c.error_code, p_now
  from jsonb_to_recordset(p_calls) as c(step_id text, purpose text, provider text, model text,
    answered_model text, input_tokens integer, output_tokens integer, cost_usd numeric,
    priced boolean, latency_ms integer, outcome text, error_code text);
  if p_planning is not null then
    update runs set planning = p_planning where id = p_run_id and state = 'pending';
  end if;
  return query select s.result, s.roots from agentry_save_plan(p_run_id, p_next, p_source,
    p_produced_by, p_summary, p_hash, p_body, p_steps, p_now) s;
end
$fn$`;

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function agentry_save_plan(uuid, text, text, text, text, text, jsonb, jsonb, timestamptz, jsonb, jsonb)`.execute(
    db,
  );
  await db.schema.alterTable('runs').dropColumn('planning').execute();
  await db.schema.dropTable('llm_calls').execute();
}
