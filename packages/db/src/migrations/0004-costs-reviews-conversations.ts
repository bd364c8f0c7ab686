import { sql, type Kysely } from 'kysely';

// Frozen in time, like every migration (see 0001 and 0002).

/**
 * Spend accounting. Every priced model call (`llm_calls`) and every priced tool call
 * (`tool_charges`) adds its cost, in the same transaction that records it, to its run's
 * `spent_usd` and its tenant's monthly total (`tenant_spend`, months in UTC), and records each
 * alert threshold of the tenant's budget the total has reached (`budget_alerts`, unique per
 * tenant, month and threshold: a crossing is recorded once, whoever reaches it). A trigger, so
 * no writer of a cost can forget it, and the totals cannot drift from the ledgers.
 */
const accountSpend = sql`
create function agentry_account_spend() returns trigger
language plpgsql volatile as $fn$
declare
  v_tenant text;
  v_period date := date_trunc('month', new.at at time zone 'UTC')::date;
  v_spent numeric;
  v_budget numeric;
  v_thresholds jsonb;
begin
  -- Lock order: the run, then the tenant's month (nothing locks them the other way round).
  update runs set spent_usd = spent_usd + new.cost_usd where id = new.run_id
    returning tenant_id into v_tenant;
  if v_tenant is null then
    return null;
  end if;
  insert into tenant_spend as t (tenant_id, period, spent_usd, updated_at)
    values (v_tenant, v_period, new.cost_usd, new.at)
    on conflict (tenant_id, period) do update
      set spent_usd = t.spent_usd + excluded.spent_usd,
          updated_at = greatest(t.updated_at, excluded.updated_at)
    returning t.spent_usd into v_spent;
  select b.monthly_usd, b.thresholds into v_budget, v_thresholds
    from tenant_budgets b where b.tenant_id = v_tenant;
  if v_budget is not null then
    insert into budget_alerts (tenant_id, period, threshold_pct, budget_usd, spent_usd, crossed_at)
      select v_tenant, v_period, p.pct, v_budget, v_spent, new.at
        from (select (value)::int as pct from jsonb_array_elements_text(v_thresholds)) p
        where v_spent >= v_budget * p.pct / 100
      on conflict (tenant_id, period, threshold_pct) do nothing;
  end if;
  return null;
end
$fn$`;

/**
 * `agentry_start_attempt` (0002) that also answers the run's budget and spend, so the executor
 * checks a step against its run's budget without another round trip. A new name, not a
 * replacement: workers of the previous release keep calling the old one during a rollout.
 */
const claimStep = sql`
create function agentry_claim_step(
  p_run_id uuid, p_step_id text, p_attempt integer, p_job_id text, p_worker text,
  p_now timestamptz, p_abandoned jsonb
) returns table (result text, attempt_id bigint, budget_usd numeric, spent_usd numeric, step steps)
language plpgsql volatile as $fn$
declare
  v_claim record;
  v_budget numeric;
  v_spent numeric;
begin
  select a.* into v_claim from agentry_start_attempt(p_run_id, p_step_id, p_attempt, p_job_id,
    p_worker, p_now, p_abandoned) a;
  -- A statement of its own, so a fresh snapshot taken under the run lock the claim holds: the
  -- spend includes every cost committed before it.
  select r.budget_usd, r.spent_usd into v_budget, v_spent from runs r where r.id = p_run_id;
  return query select v_claim.result, v_claim.attempt_id, v_budget, v_spent, v_claim.step;
end
$fn$`;

/**
 * `agentry_complete_step` (0002) that also counts a finished dependency while its run waits for
 * approval (parked by a budget stop): the dependents reach `pending_deps = 0` and stay `pending`,
 * and approval queues them. Otherwise unchanged; `completeStep(false)` is 0002's text exactly.
 */
const parkedDeps = sql.raw(`  if v_run_state = 'awaiting_approval' then
    update steps s set pending_deps = s.pending_deps - 1
      where s.run_id = p_run_id and s.state = 'pending' and s.depends_on ? p_step_id;
    return query select 'done'::text, false, '[]'::jsonb, v_run_state;
    return;
  end if;
`);
const completeStep = (parkedRunsCountDeps: boolean) => sql`
create or replace function agentry_complete_step(
  p_run_id uuid, p_step_id text, p_attempt_id bigint, p_output jsonb, p_now timestamptz
) returns table (result text, run_succeeded boolean, ready jsonb, run_state text)
language plpgsql volatile as $fn$
declare
  v_run_state text;
  v_step_state text;
  v_ready jsonb;
  v_succeeded boolean;
begin
  select r.state into v_run_state from runs r where r.id = p_run_id for no key update;
  if found then
    select s.state into v_step_state from steps s
      where s.run_id = p_run_id and s.step_id = p_step_id for update;
  end if;
  if v_step_state is distinct from 'running' then
    return query select 'already-done'::text, false, '[]'::jsonb, v_run_state;
    return;
  end if;
  update steps s set state = 'succeeded', output = p_output, error = null, finished_at = p_now
    where s.run_id = p_run_id and s.step_id = p_step_id;
  update step_attempts a set outcome = 'succeeded', error = null, finished_at = p_now,
      duration_ms = greatest(0, round(extract(epoch from (p_now - a.started_at)) * 1000))::int
    where a.id = p_attempt_id and a.run_id = p_run_id and a.step_id = p_step_id
      and a.outcome = 'running';
${parkedRunsCountDeps ? parkedDeps : sql.raw('')}  if v_run_state <> 'running' then
    return query select 'done'::text, false, '[]'::jsonb, v_run_state;
    return;
  end if;
  -- Decrement and queue in one update: a row must not be updated twice in one statement.
  with changed as (
    update steps s set
        pending_deps = s.pending_deps - 1,
        state = case when s.pending_deps = 1 then 'queued' else s.state end,
        queued_at = case when s.pending_deps = 1 then p_now else s.queued_at end
      where s.run_id = p_run_id and s.state = 'pending' and s.depends_on ? p_step_id
      returning s.step_id, s.max_attempts, s.position, s.state
  )
  select coalesce(
      jsonb_agg(jsonb_build_object('stepId', c.step_id, 'maxAttempts', c.max_attempts)
        order by c.position) filter (where c.state = 'queued'),
      '[]'::jsonb)
    into v_ready from changed c;
  -- A fresh snapshot, taken under the run lock: every sibling that completed before is seen.
  update runs r set state = 'succeeded', updated_at = p_now, finished_at = p_now
    where r.id = p_run_id and r.state = 'running'
      and not exists (
        select 1 from steps s
          where s.run_id = p_run_id and s.state not in ('succeeded', 'skipped'));
  v_succeeded := found;
  return query select 'done'::text, v_succeeded, v_ready,
    case when v_succeeded then 'succeeded' else v_run_state end;
end
$fn$`;

/**
 * `agentry_save_plan` (0003) with the plan's review and the run's approval request, still one
 * round trip: both are stored only when this call saved the plan.
 */
const saveReviewedPlan = sql`
create function agentry_save_reviewed_plan(
  p_run_id uuid, p_next text, p_source text, p_produced_by text, p_summary text, p_hash text,
  p_body jsonb, p_steps jsonb, p_now timestamptz, p_planning jsonb, p_calls jsonb,
  p_review jsonb, p_approval jsonb, p_approval_expires_at timestamptz
) returns table (result text, roots jsonb)
language plpgsql volatile as $fn$
declare
  v_result text;
  v_roots jsonb;
begin
  select s.result, s.roots into v_result, v_roots from agentry_save_plan(p_run_id, p_next,
    p_source, p_produced_by, p_summary, p_hash, p_body, p_steps, p_now, p_planning, p_calls) s;
  if v_result = 'saved' then
    update plans set review = p_review where run_id = p_run_id;
    update runs set approval = p_approval, approval_expires_at = p_approval_expires_at
      where id = p_run_id;
  end if;
  return query select v_result, v_roots;
end
$fn$`;

/**
 * Costs and budgets (run spend, tool charges, tenant monthly totals, budgets and their alerts),
 * plan reviews and approval requests, and conversations.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('runs')
    .addColumn('spent_usd', 'numeric', (c) => c.notNull().defaultTo(0))
    .addColumn('approval', 'jsonb')
    .addColumn('approval_expires_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('runs_approval_expires_at_idx')
    .on('runs')
    .column('approval_expires_at')
    .where(sql.ref('state'), '=', 'awaiting_approval')
    .execute();
  await db.schema
    .createIndex('runs_conversation_idx')
    .on('runs')
    .columns(['tenant_id', 'conversation_id', 'created_at'])
    .where(sql.ref('conversation_id'), 'is not', null)
    .execute();
  await db.schema.alterTable('plans').addColumn('review', 'jsonb').execute();

  await db.schema
    .createTable('tool_charges')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('run_id', 'uuid', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('step_id', 'text', (c) => c.notNull())
    // One charge per attempt: a re-delivered claim is a new attempt (its call is made again).
    .addColumn('attempt_id', 'bigint', (c) => c.notNull().unique())
    .addColumn('tool', 'text', (c) => c.notNull())
    .addColumn('cost_usd', 'numeric', (c) => c.notNull().check(sql`cost_usd >= 0`))
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('tool_charges_run_id_idx')
    .on('tool_charges')
    .column('run_id')
    .execute();
  await db.schema.createIndex('tool_charges_at_idx').on('tool_charges').column('at').execute();

  await db.schema
    .createTable('tenant_spend')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('period', 'date', (c) => c.notNull())
    .addColumn('spent_usd', 'numeric', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('tenant_spend_pk', ['tenant_id', 'period'])
    .execute();
  await db.schema
    .createTable('tenant_budgets')
    .addColumn('tenant_id', 'text', (c) => c.primaryKey())
    .addColumn('monthly_usd', 'numeric', (c) => c.notNull().check(sql`monthly_usd > 0`))
    .addColumn('thresholds', 'jsonb', (c) => c.notNull().defaultTo(sql`'[50, 80, 100]'::jsonb`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('budget_alerts')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('period', 'date', (c) => c.notNull())
    .addColumn('threshold_pct', 'integer', (c) => c.notNull())
    .addColumn('budget_usd', 'numeric', (c) => c.notNull())
    .addColumn('spent_usd', 'numeric', (c) => c.notNull())
    .addColumn('crossed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('announced_at', 'timestamptz')
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('delivery_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addUniqueConstraint('budget_alerts_once_uq', ['tenant_id', 'period', 'threshold_pct'])
    .execute();

  await db.schema
    .createTable('conversations')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('conversation_id', 'text', (c) => c.notNull())
    .addColumn('turns', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_turn_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('conversations_pk', ['tenant_id', 'conversation_id'])
    .execute();
  await db.schema
    .createIndex('conversations_last_turn_at_idx')
    .on('conversations')
    .column('last_turn_at')
    .execute();
  await sql`alter table runs add column turn integer`.execute(db);

  await accountSpend.execute(db);
  for (const table of ['llm_calls', 'tool_charges']) {
    await sql`create trigger ${sql.raw(`${table}_account_spend`)} after insert on ${sql.table(table)}
      for each row when (new.cost_usd > 0) execute function agentry_account_spend()`.execute(db);
  }
  await claimStep.execute(db);
  await completeStep(true).execute(db);
  await saveReviewedPlan.execute(db);
}

/** Drops everything {@link up} created and restores `agentry_complete_step` as 0002 made it. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function agentry_save_reviewed_plan(uuid, text, text, text, text, text, jsonb, jsonb, timestamptz, jsonb, jsonb, jsonb, jsonb, timestamptz)`.execute(
    db,
  );
  await completeStep(false).execute(db);
  await sql`drop function agentry_claim_step(uuid, text, integer, text, text, timestamptz, jsonb)`.execute(
    db,
  );
  for (const table of ['llm_calls', 'tool_charges']) {
    await sql`drop trigger ${sql.raw(`${table}_account_spend`)} on ${sql.table(table)}`.execute(db);
  }
  await sql`drop function agentry_account_spend()`.execute(db);
  for (const table of ['conversations', 'budget_alerts', 'tenant_budgets', 'tenant_spend']) {
    await db.schema.dropTable(table).execute();
  }
  await db.schema.dropTable('tool_charges').execute();
  await db.schema.alterTable('plans').dropColumn('review').execute();
  await db.schema.dropIndex('runs_conversation_idx').execute();
  await db.schema.dropIndex('runs_approval_expires_at_idx').execute();
  await db.schema
    .alterTable('runs')
    .dropColumn('turn')
    .dropColumn('approval_expires_at')
    .dropColumn('approval')
    .dropColumn('spent_usd')
    .execute();
}
