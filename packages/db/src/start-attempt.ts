import { sql, type Kysely, type Selectable } from 'kysely';
import type { SerializedError } from '@agentry/schema';
import type { DB, StepsTable } from './db';
import { isUuid } from './is-uuid';
import { toJson } from './json';
import { toStepRow, type StepRow } from './rows';

/** Why {@link startAttempt} declined to run a step. */
export type SkipReason =
  'already-succeeded' | 'run-not-running' | 'step-not-runnable' | 'not-found';

/** The answer of `StepRepository.startAttempt`. */
export type StartAttemptResult =
  | {
      kind: 'run';
      step: StepRow;
      attemptId: string;
      /** The run's budget and its spend at the claim; absent when the run has no budget. */
      budget?: { limitUsd: number; spentUsd: number };
    }
  | { kind: 'skip'; reason: SkipReason; step?: StepRow };

const abandoned: SerializedError = {
  code: 'INTERNAL',
  message: 'attempt abandoned: the step was started again (the worker running it stopped)',
  retryable: true,
};

/** A row of `agentry_claim_step` (or of `agentry_claim_steps`, without its index). */
export type ClaimRow = {
  result: 'run' | SkipReason;
  attemptId: string | number | null;
  budgetUsd: string | null;
  spentUsd: string | null;
} & {
  [K in keyof Selectable<StepsTable>]: Selectable<StepsTable>[K] | null;
};

/** The claim's JSON argument for a re-delivery's abandoned attempt. */
export const abandonedJson = toJson(abandoned);

/**
 * `StepRepository.startAttempt` in one round trip: the `agentry_claim_step` function (migration
 * 0004, over 0002's `agentry_start_attempt`) locks the run, then the step, claims it and reads the
 * run's budget and spend in the same call.
 */
export async function startAttempt(
  db: Kysely<DB>,
  now: Date,
  runId: string,
  stepId: string,
  attempt: { attempt: number; jobId: string; worker: string },
): Promise<StartAttemptResult> {
  if (!isUuid(runId)) return { kind: 'skip', reason: 'not-found' };
  const { rows } = await sql<ClaimRow>`
    select r.result, r.attempt_id, r.budget_usd, r.spent_usd, (r.step).*
    from agentry_claim_step(${runId}::uuid, ${stepId}::text, ${attempt.attempt}::int,
      ${attempt.jobId}::text, ${attempt.worker}::text, ${now}::timestamptz,
      ${abandonedJson}::jsonb) r`.execute(db);
  return toStartAttemptResult(rows[0]);
}

/** A claim function's row as the repository answers it. */
export function toStartAttemptResult(found: ClaimRow | undefined): StartAttemptResult {
  if (!found || found.result === 'not-found') return { kind: 'skip', reason: 'not-found' };
  const { result, attemptId, budgetUsd, spentUsd, ...step } = found;
  const row = toStepRow(step as Selectable<StepsTable>);
  if (result !== 'run') return { kind: 'skip', reason: result, step: row };
  return {
    kind: 'run',
    step: row,
    attemptId: String(attemptId),
    ...(budgetUsd === null
      ? {}
      : { budget: { limitUsd: Number(budgetUsd), spentUsd: Number(spentUsd ?? 0) } }),
  };
}
