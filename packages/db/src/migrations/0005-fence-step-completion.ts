import { sql, type Kysely } from 'kysely';

// Frozen in time, like every migration (see 0002).

/**
 * `agentry_complete_step` (0004) fenced by the attempt: only the step's current attempt — the
 * one still open (`outcome = 'running'`) — may complete it. A worker whose lock lapsed while it
 * was alive (event loop blocked, GC pause, VM paused, partition from Redis) wakes up after
 * another worker re-claimed the step, which closed the old attempt as abandoned; its completion
 * now answers `superseded` and changes nothing, instead of recording the step under the new
 * owner's feet and queueing its dependents early. `fenced = false` is 0004's text exactly.
 */
const completeStep = (fenced: boolean) => sql`
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
${fenced ? fence : sql.raw('')}  update steps s set state = 'succeeded', output = p_output, error = null, finished_at = p_now
    where s.run_id = p_run_id and s.step_id = p_step_id;
  update step_attempts a set outcome = 'succeeded', error = null, finished_at = p_now,
      duration_ms = greatest(0, round(extract(epoch from (p_now - a.started_at)) * 1000))::int
    where a.id = p_attempt_id and a.run_id = p_run_id and a.step_id = p_step_id
      and a.outcome = 'running';
  if v_run_state = 'awaiting_approval' then
    update steps s set pending_deps = s.pending_deps - 1
      where s.run_id = p_run_id and s.state = 'pending' and s.depends_on ? p_step_id;
    return query select 'done'::text, false, '[]'::jsonb, v_run_state;
    return;
  end if;
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

/** The step is running, but not under this attempt: another worker owns it now. */
const fence = sql.raw(`  if not exists (
    select 1 from step_attempts a
      where a.id = p_attempt_id and a.run_id = p_run_id and a.step_id = p_step_id
        and a.outcome = 'running') then
    return query select 'superseded'::text, false, '[]'::jsonb, v_run_state;
    return;
  end if;
`);

/** Only a step's current attempt completes it (fail, cancel and park are fenced in code). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await completeStep(true).execute(db);
}

/** Restores `agentry_complete_step` as 0004 made it. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await completeStep(false).execute(db);
}
