import {
  affordable,
  budgetExceeded,
  dispatchSteps,
  planHash,
  reviewForRun,
  tracingOf,
  type PlanReviewDeps,
  type EngineDeps,
  type LlmRuntime,
} from '@agentry/engine';
import { callCostCeiling } from '@agentry/llm';
import type { LlmCallInput } from '@agentry/db';
import {
  isAppError,
  runIdForPlanJob,
  toAppError,
  validatePlan,
  type JobPayload,
} from '@agentry/schema';
import type { JobContext } from '@agentry/queue';
import { conversationContext } from './conversation-context';
import { planWithChain, type PlannerChainDeps } from './planner-chain';

export interface PlanJobDeps extends EngineDeps {
  chain: PlannerChainDeps;
  knownTools: ReadonlySet<string>;
  review: PlanReviewDeps;
  /** Tokens of earlier conversation turns the model is given. @default 2000 */
  contextTokens?: number;
  /** Called after planning costs were recorded (tenant budget alerts). Must not throw. */
  afterSpend?: () => void;
  /** Metrics and per-run logs of model calls; absent without models. */
  llm?: Pick<LlmRuntime, 'observeCall' | 'countHop' | 'logTo'>;
}

export type PlanJobResult =
  | {
      runId: string;
      outcome: 'planned';
      state: 'running' | 'awaiting_approval';
      steps: number;
      producedBy: string;
      source: string;
    }
  | { runId: string; outcome: 'duplicate'; of: string }
  | { runId: string; outcome: 'already-planned'; state: string; redispatched: number };

/**
 * Turn an intent into a stored plan: find or record the run (idempotent on the job id), plan with
 * the planner chain, validate, store plan, steps, the planning record and the model calls in one
 * transaction, then park it for approval (dry run, or the safe fallback plan) or enqueue its root
 * steps. A template plan that fails validation fails the run and the job (fatal, so it is
 * dead-lettered); a model's invalid plan never gets here (the chain skips that hop).
 */
export async function handlePlanJob(
  deps: PlanJobDeps,
  payload: JobPayload<'plan'>,
  ctx: Pick<JobContext, 'jobId' | 'log' | 'signal'>,
): Promise<PlanJobResult> {
  const runId = runIdForPlanJob(ctx.jobId, payload.runId);
  const correlationId = payload.correlationId ?? runId;
  // A raw plan job may carry no correlation id (the job runner binds only what the payload has):
  // bind the derived one, so every line of the run carries it.
  const log = payload.correlationId === undefined ? ctx.log.child({ correlationId }) : ctx.log;
  const { intent } = payload;
  // `submitIntent` recorded the run already: read it (one statement) and create it only for a
  // raw plan job, whose producer did not. `create` stays idempotent for a racing re-delivery.
  const run = (await deps.repos.runs.get(runId)) ?? (await recordRawRun());
  async function recordRawRun() {
    const startTime = Date.now();
    const recorded = await deps.repos.runs.create({
      id: runId,
      tenantId: intent.tenantId,
      conversationId: intent.conversationId,
      idempotencyKey: intent.idempotencyKey,
      planJobId: ctx.jobId,
      correlationId,
      dryRun: intent.dryRun,
      intent,
      budgetUsd: intent.budgetUsd,
    });
    // No API saw this run: its trace's root span is recorded here.
    if (recorded.created) {
      tracingOf(deps).recordRunRoot(runId, {
        startTime,
        attributes: {
          'agentry.correlation_id': correlationId,
          'agentry.tenant_id': intent.tenantId,
          'agentry.dry_run': intent.dryRun,
        },
      });
    }
    return recorded.run;
  }
  if (run.id !== runId) {
    log.info({ existingRunId: run.id }, 'idempotency key already used: nothing to plan');
    return { runId, outcome: 'duplicate', of: run.id };
  }
  if (run.state !== 'pending') {
    // A re-delivered plan job after the commit: make sure the root steps were enqueued.
    const queued = run.state === 'running' ? await deps.repos.steps.queued(run.id) : [];
    const redispatched = await dispatchSteps(deps, run, queued);
    return { runId, outcome: 'already-planned', state: run.state, redispatched };
  }

  // Model calls are paid for whatever happens next: they are stored with the plan, or on their
  // own (best effort) when planning or saving fails, so a re-delivered job's calls add to them.
  const calls: LlmCallInput[] = [];
  const spent = () => run.spentUsd + calls.reduce((sum, c) => sum + c.costUsd, 0);
  const { budgetUsd } = run;
  const models = deps.chain.models;
  const keepingCalls = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (e) {
      await deps.repos.llmCalls.record(calls).catch((err: unknown) => {
        log.error(
          { err: toAppError(err).toJSON(), calls: calls.length },
          'model calls not recorded',
        );
      });
      throw e;
    }
  };
  const context = await keepingCalls(() => conversationContext(deps, run, intent, log));
  const planned = await keepingCalls(() =>
    planWithChain(deps.chain, context.intent, {
      signal: ctx.signal,
      history: context.history,
      ...(deps.llm ? { observe: deps.llm.logTo(log) } : {}),
      onHop: (hop) => {
        deps.llm?.countHop(hop.planner, hop.outcome, hop.code);
        if (hop.outcome === 'skipped') {
          log.warn(
            { planner: hop.planner, code: hop.code, reason: hop.reason },
            'planner could not plan; trying the next',
          );
        }
      },
      onCall: (call) => {
        deps.llm?.observeCall(call);
        calls.push({ ...call, runId: run.id, purpose: 'plan' });
      },
      // A run with a budget makes no planning call it cannot afford (priced at its most).
      ...(budgetUsd !== null &&
        models && {
          beforeCall: async (provider, request) => {
            const needed = callCostCeiling(
              request,
              provider.model,
              models.maxOutputTokens,
              models.prices,
            ).costUsd;
            if (affordable(budgetUsd, spent(), needed)) return;
            throw budgetExceeded({
              limitUsd: budgetUsd,
              spentUsd: spent(),
              neededUsd: needed,
              what: `a planning call to ${provider.name}:${provider.model}`,
            });
          },
        }),
    }),
  );
  const validated = await keepingCalls(async () => {
    try {
      return validatePlan(planned.plan, deps.knownTools);
    } catch (e) {
      const error = toAppError(e);
      if (isAppError(e)) {
        await deps.repos.runs.transition(run.id, ['pending'], 'failed', { error: error.toJSON() });
      }
      throw error;
    }
  });
  const hash = planHash(validated.plan);
  const { review, next, approval } = await keepingCalls(() =>
    reviewForRun(
      deps.review,
      { validated, hash, planningCostUsd: calls.reduce((sum, c) => sum + c.costUsd, 0) },
      { dryRun: intent.dryRun, fallback: planned.needsApproval },
    ),
  );
  const saved = await keepingCalls(() =>
    deps.repos.runs.savePlan(
      run.id,
      {
        plan: validated.plan,
        order: validated.order,
        hash,
        planning: {
          hops: planned.hops,
          ...(planned.templateMatch && { templateMatch: planned.templateMatch }),
        },
        llmCalls: calls,
        review,
        ...(approval && { approval }),
      },
      next,
    ),
  );
  if (calls.some((c) => c.costUsd > 0)) deps.afterSpend?.();
  await dispatchSteps(deps, run, saved.roots);
  const fields = {
    runId,
    source: validated.plan.source,
    producedBy: validated.plan.producedBy,
    steps: validated.plan.steps.length,
    state: next,
  };
  if (planned.needsApproval)
    log.warn(fields, 'no planner could plan: fallback plan awaits approval');
  else if (next === 'running') log.info(fields, 'run planned and started');
  else log.info({ ...fields, reasons: approval?.reasons }, 'run planned, awaiting approval');
  return {
    runId,
    outcome: 'planned',
    state: next,
    steps: validated.plan.steps.length,
    producedBy: validated.plan.producedBy,
    source: validated.plan.source,
  };
}
