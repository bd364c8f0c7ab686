import { AppError, validatePlan, type PlanInput, type PlanReview } from '@agentry/schema';
import type { EngineDeps } from './engine-deps';
import { planHash, reviewForRun, type PlanReviewDeps } from './review';

/** A reviewer's edit of a plan waiting for approval. */
export interface PlanAmendment {
  runId: string;
  /** The new steps and summary (source and producer are kept from the plan it replaces). */
  plan: Pick<PlanInput, 'summary' | 'steps'>;
  actor: string;
  reason?: string;
}

/** What amending needs besides the engine: the tools plans may name and how to review. */
export interface AmendDeps extends EngineDeps {
  knownTools: ReadonlySet<string>;
  review: PlanReviewDeps;
}

/**
 * Replace the plan of a run waiting for approval with an edited one — say, without the step a
 * reviewer found too risky. The new plan is validated and reviewed like a planned one and always
 * waits for its own approval; its hash is new, so an approval of the plan as it was is refused.
 * Audited (`run.amend`, with both hashes). `CONFLICT` when the run is not waiting for approval
 * or a step already ran; `PLAN_INVALID` / `UNKNOWN_TOOL` for a plan that does not validate.
 */
export async function amendRunPlan(
  deps: AmendDeps,
  amendment: PlanAmendment,
): Promise<{ runId: string; state: 'awaiting_approval'; planHash: string; review: PlanReview }> {
  const detail = await deps.repos.runs.detail(amendment.runId);
  if (!detail) throw new AppError('NOT_FOUND', `run ${amendment.runId} does not exist`);
  const { run, plan: current } = detail;
  if (run.state !== 'awaiting_approval' || !current) {
    throw new AppError('CONFLICT', `run ${run.id} is ${run.state}, not awaiting approval`, {
      details: { state: run.state },
    });
  }
  const validated = validatePlan(
    {
      ...amendment.plan,
      source: current.source,
      producedBy: `amended by ${amendment.actor}`.slice(0, 128),
    },
    deps.knownTools,
  );
  const hash = planHash(validated.plan);
  const why = `amended by ${amendment.actor}${amendment.reason ? `: ${amendment.reason}` : ''}`;
  const { review, approval } = await reviewForRun(
    deps.review,
    { validated, hash, planningCostUsd: current.review?.estimatedCost.planningUsd ?? 0 },
    { dryRun: false, fallback: false, amended: why },
  );
  if (!approval) throw new AppError('INTERNAL', 'an amended plan must wait for approval');
  const result = await deps.repos.runs.amendPlan(run.id, { ...validated, hash, review, approval });
  if (result.outcome !== 'amended') {
    throw new AppError(
      result.outcome === 'unknown' ? 'NOT_FOUND' : 'CONFLICT',
      result.outcome === 'started'
        ? `run ${run.id}: a step already ran, so its plan can no longer be replaced`
        : `run ${run.id} is no longer awaiting approval`,
      { details: { outcome: result.outcome } },
    );
  }
  await deps.repos.audit.record({
    actor: amendment.actor,
    action: 'run.amend',
    targetType: 'run',
    targetId: run.id,
    details: {
      reason: amendment.reason ?? null,
      previousHash: result.previousHash,
      planHash: hash,
    },
  });
  deps.log.info(
    { runId: run.id, correlationId: run.correlationId, actor: amendment.actor, planHash: hash },
    'plan amended: it waits for approval',
  );
  return { runId: run.id, state: 'awaiting_approval', planHash: hash, review };
}
