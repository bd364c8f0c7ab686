import { sql, type Kysely } from 'kysely';

// Frozen in time, like every migration: a later change of these functions is a new migration
// that replaces them (`create or replace`), never an edit of this file.
//
// Why functions: claiming and completing a step are the hot path (two calls per step). As
// client-side transactions they cost 7 and 9–10 round trips; as one call each, 1. Saving a plan
// (once per run) cost 6, also 1 now. Each SQL
// statement of a VOLATILE PL/pgSQL function in READ COMMITTED takes a fresh snapshot, so what a
// function reads after `select … for update` of the run includes everything committed by the
// transaction that held the lock before it: the same guarantee as the client-side transaction.
// The call itself is one statement, hence its own transaction (no explicit BEGIN needed).

/**
 * Claim a step for an attempt (see `StepRepository.startAttempt`). `result` is `run`,
 * `not-found`, `already-succeeded`, `run-not-running` or `step-not-runnable`; `step` is the
 * step row after the claim (or as found, for a skip; null when not found).
 */
const startAttempt = sql`
create function agentry_start_attempt(
  p_run_id uuid, p_step_id text, p_attempt integer, p_job_id text, p_worker text,
  p_now timestamptz, p_abandoned jsonb
) returns table (result text, attempt_id bigint, step steps)
language plpgsql volatile as $fn$
declare
  v_run_state text;
  v_step steps;
  v_attempt_id bigint;
begin
  -- Lock order everywhere: the run, then the step.
  select r.state into v_run_state from runs r where r.id = p_run_id for no key update;
  if not found then
    return query select 'not-found'::text, null::bigint, null::steps;
    return;
  end if;
  select * into v_step from steps s
    where s.run_id = p_run_id and s.step_id = p_step_id for update;
  if not found then
    return query select 'not-found'::text, null::bigint, null::steps;
    return;
  end if;
  if v_step.state = 'succeeded' then
    return query select 'already-succeeded'::text, null::bigint, v_step;
    return;
  end if;
  if v_run_state <> 'running' then
    return query select 'run-not-running'::text, null::bigint, v_step;
    return;
  end if;
  if v_step.state not in ('queued', 'running') then
    return query select 'step-not-runnable'::text, null::bigint, v_step;
    return;
  end if;
  -- A re-delivery after a worker died: close the attempt it left open.
  update step_attempts a set outcome = 'failed', error = p_abandoned, finished_at = p_now
    where a.run_id = p_run_id and a.step_id = p_step_id and a.outcome = 'running';
  update steps s set state = 'running', attempts = s.attempts + 1, started_at = p_now,
      finished_at = null
    where s.run_id = p_run_id and s.step_id = p_step_id
    returning s.* into v_step;
  insert into step_attempts (run_id, step_id, attempt, job_id, worker, outcome, started_at)
    values (p_run_id, p_step_id, p_attempt, p_job_id, p_worker, 'running', p_now)
    returning id into v_attempt_id;
  return query select 'run'::text, v_attempt_id, v_step;
end
$fn$`;

/**
 * Record a step's success (see `StepRepository.complete`). `result` is `already-done` (the
 * step was not running: nothing changed) or `done`; `ready` is a JSON array of
 * `{ stepId, maxAttempts }` of the dependents this call queued, by position; `run_state` is the
 * run's state after the call (so a step that finished after its run ended is known without a read).
 */
const completeStep = sql`
create function agentry_complete_step(
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
  if v_run_state <> 'running' then
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
 * Store a run's plan and steps and move the run from `pending` to `p_next` (see
 * `RunRepository.savePlan`). `p_steps` is a JSON array of `{ stepId, position, tool, input,
 * dependsOn, timeoutMs, maxAttempts, risk }` (`dependsOn` without duplicates). `result` is
 * `not-found`, `saved`, or `not-saved` (the run is not pending or already has a plan: nothing
 * changed); `roots` is a JSON array of `{ stepId, maxAttempts }`, by position: the roots this
 * call queued, or for `not-saved` the run's currently queued roots.
 *
 * A function rather than one data-modifying CTE statement: every CTE of a statement shares one
 * snapshot, so a call that waited for a concurrent save of the same run to commit would see the
 * run updated (the row is re-read) but not that save's steps, and answer `not-saved` without
 * the queued roots. Here each statement after the lock takes a fresh snapshot, as in the
 * client-side transaction this replaces; and `not-found` needs no second query.
 */
const savePlan = sql`
create function agentry_save_plan(
  p_run_id uuid, p_next text, p_source text, p_produced_by text, p_summary text, p_hash text,
  p_body jsonb, p_steps jsonb, p_now timestamptz
) returns table (result text, roots jsonb)
language plpgsql volatile as $fn$
declare
  v_run_state text;
  v_queue_roots boolean := p_next = 'running';
  v_saved boolean := false;
  v_roots jsonb;
begin
  select r.state into v_run_state from runs r where r.id = p_run_id for no key update;
  if not found then
    return query select 'not-found'::text, '[]'::jsonb;
    return;
  end if;
  if v_run_state = 'pending' then
    insert into plans (run_id, source, produced_by, summary, hash, body, created_at)
      values (p_run_id, p_source, p_produced_by, p_summary, p_hash, p_body, p_now)
      on conflict (run_id) do nothing;
    v_saved := found;
  end if;
  if not v_saved then
    -- A fresh snapshot, taken under the run lock: the steps of a save that committed first.
    select coalesce(
        jsonb_agg(jsonb_build_object('stepId', s.step_id, 'maxAttempts', s.max_attempts)
          order by s.position),
        '[]'::jsonb)
      into v_roots from steps s
      where s.run_id = p_run_id and s.state = 'queued' and s.depends_on = '[]'::jsonb;
    return query select 'not-saved'::text, v_roots;
    return;
  end if;
  with inserted as (
    insert into steps (run_id, step_id, position, tool, input, depends_on, pending_deps,
        timeout_ms, max_attempts, risk, state, queued_at)
      select p_run_id, e->>'stepId', (e->>'position')::int, e->>'tool', e->'input',
          e->'dependsOn', jsonb_array_length(e->'dependsOn'), (e->>'timeoutMs')::int,
          (e->>'maxAttempts')::int, e->>'risk',
          case when v_queue_roots and jsonb_array_length(e->'dependsOn') = 0
            then 'queued' else 'pending' end,
          case when v_queue_roots and jsonb_array_length(e->'dependsOn') = 0
            then p_now end
        from jsonb_array_elements(p_steps) e
      returning step_id, max_attempts, position, state
  )
  select coalesce(
      jsonb_agg(jsonb_build_object('stepId', i.step_id, 'maxAttempts', i.max_attempts)
        order by i.position) filter (where i.state = 'queued'),
      '[]'::jsonb)
    into v_roots from inserted i;
  update runs r set state = p_next, updated_at = p_now,
      started_at = case when v_queue_roots then p_now else r.started_at end
    where r.id = p_run_id;
  return query select 'saved'::text, v_roots;
end
$fn$`;

/** Claim and complete a step, and save a plan, in one round trip each. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await startAttempt.execute(db);
  await completeStep.execute(db);
  await savePlan.execute(db);
}

/** Drops the functions {@link up} created. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function agentry_save_plan(uuid, text, text, text, text, text, jsonb, jsonb, timestamptz)`.execute(
    db,
  );
  await sql`drop function agentry_complete_step(uuid, text, bigint, jsonb, timestamptz)`.execute(
    db,
  );
  await sql`drop function agentry_start_attempt(uuid, text, integer, text, text, timestamptz, jsonb)`.execute(
    db,
  );
}
