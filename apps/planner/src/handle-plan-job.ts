import { dispatchSteps, type EngineDeps } from '@agentry/engine';
import {
  isAppError,
  runIdForPlanJob,
  toAppError,
  validatePlan,
  type JobPayload,
} from '@agentry/schema';
import type { JobContext } from '@agentry/queue';
import { planHash } from './plan-hash';
import type { TemplatePlanner } from './templates';

export interface PlanJobDeps extends EngineDeps {
  planner: TemplatePlanner;
  knownTools: ReadonlySet<string>;
}

export type PlanJobResult =
  | {
      runId: string;
      outcome: 'planned';
      state: 'running' | 'awaiting_approval';
      steps: number;
      producedBy: string;
    }
  | { runId: string; outcome: 'duplicate'; of: string }
  | { runId: string; outcome: 'already-planned'; state: string; redispatched: number };

/**
 * Turn an intent into a stored plan: find or record the run (idempotent on the job id), plan, validate,
 * store plan and steps in one transaction, then park it for approval or enqueue its root steps.
 * A plan that fails validation fails the run and the job (fatal, so it is dead-lettered).
 */
export async function handlePlanJob(
  deps: PlanJobDeps,
  payload: JobPayload<'plan'>,
  ctx: Pick<JobContext, 'jobId' | 'log'>,
): Promise<PlanJobResult> {
  const runId = runIdForPlanJob(ctx.jobId, payload.runId);
  const correlationId = payload.correlationId ?? runId;
  // A raw plan job may carry no correlation id (the job runner binds only what the payload has):
  // bind the derived one, so every line of the run carries it.
  const log = payload.correlationId === undefined ? ctx.log.child({ correlationId }) : ctx.log;
  const { intent } = payload;
  // `submitIntent` recorded the run already: read it (one statement) and create it only for a
  // raw plan job, whose producer did not. `create` stays idempotent for a racing re-delivery.
  const run =
    (await deps.repos.runs.get(runId)) ??
    (
      await deps.repos.runs.create({
        id: runId,
        tenantId: intent.tenantId,
        conversationId: intent.conversationId,
        idempotencyKey: intent.idempotencyKey,
        planJobId: ctx.jobId,
        correlationId,
        dryRun: intent.dryRun,
        intent,
        budgetUsd: intent.budgetUsd,
      })
    ).run;
  if (run.id !== runId) {
    log.info({ existingRunId: run.id }, 'idempotency key already used: nothing to plan');
    return { runId, outcome: 'duplicate', of: run.id };
  }
  if (run.state !== 'pending') {
    // A re-delivered plan job after the commit: make sure the root steps were enqueued.
    const queued = run.state === 'running' ? await deps.repos.steps.queued(run.id) : [];
    const redispatched = await dispatchSteps(deps, run.id, run.correlationId, queued);
    return { runId, outcome: 'already-planned', state: run.state, redispatched };
  }

  const proposal = deps.planner.plan(intent);
  let validated;
  try {
    validated = validatePlan(proposal.plan, deps.knownTools);
  } catch (e) {
    const error = toAppError(e);
    if (isAppError(e)) {
      await deps.repos.runs.transition(run.id, ['pending'], 'failed', { error: error.toJSON() });
    }
    throw error;
  }
  const next = intent.dryRun ? 'awaiting_approval' : 'running';
  const saved = await deps.repos.runs.savePlan(
    run.id,
    { plan: validated.plan, order: validated.order, hash: planHash(validated.plan) },
    next,
  );
  await dispatchSteps(deps, run.id, run.correlationId, saved.roots);
  log.info(
    {
      runId,
      producedBy: validated.plan.producedBy,
      steps: validated.plan.steps.length,
      state: next,
    },
    next === 'running' ? 'run planned and started' : 'run planned, awaiting approval',
  );
  return {
    runId,
    outcome: 'planned',
    state: next,
    steps: validated.plan.steps.length,
    producedBy: validated.plan.producedBy,
  };
}
