import { sql, type Kysely } from 'kysely';

// Frozen in time, like every migration (see 0002).
//
// Group commit: an executor running many steps at once claims and completes them in batches,
// one statement (one round trip, one transaction, one WAL flush) for every claim or completion
// that came in while the previous batch was in flight. Each item goes through the very function a
// lone call uses (`agentry_claim_step`, `agentry_complete_step` as 0005 fenced it), so every
// guarantee is the same: each locks its run, then its step, and each of its statements takes a
// fresh snapshot under those locks. What changes is that a batch holds the locks of several runs
// until it commits; items are taken in one order (run id, then step id) in every batch, so two
// batches never wait on each other in a cycle, and a single-run transaction (which takes one
// run's lock, then that run's rows) cannot close one either. New names, not replacements: workers
// of the previous release keep calling the lone functions during a rollout.

/**
 * Claim many steps (see `StepRepository.startAttempt`). `p_claims` is a JSON array of
 * `{ runId, stepId, attempt, jobId, worker }`; one row per item, `i` its index in the array.
 */
const claimSteps = sql`
create function agentry_claim_steps(p_claims jsonb, p_now timestamptz, p_abandoned jsonb)
returns table (i integer, result text, attempt_id bigint, budget_usd numeric, spent_usd numeric,
  step steps)
language plpgsql volatile as $fn$
#variable_conflict use_column
declare
  v record;
begin
  for v in
    select (e.ordinality - 1)::int as n, e.value as c
      from jsonb_array_elements(p_claims) with ordinality e
      order by (e.value->>'runId')::uuid, e.value->>'stepId', e.ordinality
  loop
    return query select v.n, c.* from agentry_claim_step((v.c->>'runId')::uuid,
      v.c->>'stepId', (v.c->>'attempt')::int, v.c->>'jobId', v.c->>'worker', p_now,
      p_abandoned) c;
  end loop;
end
$fn$`;

/**
 * Complete many steps (see `StepRepository.complete`). `p_steps` is a JSON array of
 * `{ runId, stepId, attemptId, output }` (`attemptId` a decimal string or null); one row per
 * item, `i` its index in the array.
 */
const completeSteps = sql`
create function agentry_complete_steps(p_steps jsonb, p_now timestamptz)
returns table (i integer, result text, run_succeeded boolean, ready jsonb, run_state text)
language plpgsql volatile as $fn$
#variable_conflict use_column
declare
  v record;
begin
  for v in
    select (e.ordinality - 1)::int as n, e.value as c
      from jsonb_array_elements(p_steps) with ordinality e
      order by (e.value->>'runId')::uuid, e.value->>'stepId', e.ordinality
  loop
    return query select v.n, c.* from agentry_complete_step((v.c->>'runId')::uuid,
      v.c->>'stepId', (v.c->>'attemptId')::bigint, v.c->'output', p_now) c;
  end loop;
end
$fn$`;

/** The batch functions of claim and completion. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await claimSteps.execute(db);
  await completeSteps.execute(db);
}

/** Drops them. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function agentry_complete_steps(jsonb, timestamptz)`.execute(db);
  await sql`drop function agentry_claim_steps(jsonb, timestamptz, jsonb)`.execute(db);
}
