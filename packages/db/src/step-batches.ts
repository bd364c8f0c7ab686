import { sql, type Kysely } from 'kysely';
import {
  attemptParam,
  completeStep,
  toCompleteResult,
  type CompleteResult,
  type CompleteRow,
} from './complete-step';
import type { DB } from './db';
import { groupCommit, isServerError } from './group-commit';
import { isUuid } from './is-uuid';
import { toJson } from './json';
import {
  abandonedJson,
  startAttempt,
  toStartAttemptResult,
  type ClaimRow,
  type StartAttemptResult,
} from './start-attempt';

/** One `StepRepository.startAttempt` call. */
export interface ClaimRequest {
  runId: string;
  stepId: string;
  attempt: { attempt: number; jobId: string; worker: string };
}

/** One `StepRepository.complete` call. */
export interface CompleteRequest {
  runId: string;
  stepId: string;
  attemptId: string;
  output: unknown;
}

/** Claim several steps in one round trip (`agentry_claim_steps`, migration 0006). */
export async function claimSteps(
  db: Kysely<DB>,
  now: Date,
  requests: readonly ClaimRequest[],
): Promise<StartAttemptResult[]> {
  const claims = requests.map((r) => ({
    runId: r.runId,
    stepId: r.stepId,
    attempt: r.attempt.attempt,
    jobId: r.attempt.jobId,
    worker: r.attempt.worker,
  }));
  const { rows } = await sql<ClaimRow & { i: number }>`
    select r.i, r.result, r.attempt_id, r.budget_usd, r.spent_usd, (r.step).*
    from agentry_claim_steps(${toJson(claims)}::jsonb, ${now}::timestamptz,
      ${abandonedJson}::jsonb) r`.execute(db);
  const byIndex = new Map(rows.map(({ i, ...row }) => [i, row as ClaimRow]));
  return requests.map((_, i) => toStartAttemptResult(byIndex.get(i)));
}

/** Complete several steps in one round trip (`agentry_complete_steps`, migration 0006). */
export async function completeSteps(
  db: Kysely<DB>,
  now: Date,
  requests: readonly CompleteRequest[],
): Promise<CompleteResult[]> {
  const steps = requests.map((r) => ({
    runId: r.runId,
    stepId: r.stepId,
    attemptId: attemptParam(r.attemptId),
    // As a lone call stores it: `undefined` is JSON null, not a missing key (SQL NULL).
    output: r.output === undefined ? null : r.output,
  }));
  const { rows } = await sql<CompleteRow & { i: number }>`
    select r.i, r.result, r.run_succeeded, r.ready, r.run_state
    from agentry_complete_steps(${toJson(steps)}::jsonb, ${now}::timestamptz) r`.execute(db);
  const byIndex = new Map(rows.map(({ i, ...row }) => [i, row]));
  return requests.map((_, i) => toCompleteResult(byIndex.get(i)));
}

/**
 * `startAttempt` and `complete` with group commit (see `groupCommit`): the claims (and, apart,
 * the completions) one process makes while its previous batch is in flight go together in one
 * statement. Each caller's promise settles after the statement that carried it committed, with
 * what a lone call would have answered. A run id that is not a UUID never reaches a batch (a lone
 * call answers it without a query).
 */
export function stepBatches(db: Kysely<DB>, clock: () => Date) {
  const claim = groupCommit<ClaimRequest, StartAttemptResult>({
    one: (r) => startAttempt(db, clock(), r.runId, r.stepId, r.attempt),
    many: (rs) => claimSteps(db, clock(), rs),
    refused: isServerError,
  });
  const complete = groupCommit<CompleteRequest, CompleteResult>({
    one: (r) => completeStep(db, clock(), r.runId, r.stepId, r.attemptId, r.output),
    many: (rs) => completeSteps(db, clock(), rs),
    refused: isServerError,
  });
  return {
    startAttempt: (request: ClaimRequest): Promise<StartAttemptResult> =>
      isUuid(request.runId)
        ? claim(request)
        : startAttempt(db, clock(), request.runId, request.stepId, request.attempt),
    complete: (request: CompleteRequest): Promise<CompleteResult> =>
      isUuid(request.runId)
        ? complete(request)
        : completeStep(
            db,
            clock(),
            request.runId,
            request.stepId,
            request.attemptId,
            request.output,
          ),
  };
}
