import { affordable, budgetExceeded, runBudgetGuard, type EngineDeps } from '@agentry/engine';
import type { StartAttemptResult } from '@agentry/db';
import { toolCallCost, type PriceTable } from '@agentry/llm';
import type { AppError } from '@agentry/schema';
import type { JobContext } from '@agentry/queue';
import type { ToolContext } from './tools';

/** How steps are priced and what a budget stop does. */
export interface StepCosts {
  prices: PriceTable;
  /** `fail`: the run fails with the budget error; `approve`: it waits for a person. */
  onBudgetExceeded: 'fail' | 'approve';
  /** How long a budget approval request stays open; 0: forever. */
  approvalTtlMs: number;
  /** Called after a cost was recorded (tenant budget alerts). Must not throw. */
  afterSpend?: () => void;
}

type Claimed = Extract<StartAttemptResult, { kind: 'run' }>;

/**
 * Before the tool runs: refuse a priced tool the run cannot afford (`BUDGET_EXCEEDED`, thrown),
 * charge the tool's price for this attempt, and give the tool the run's budget for its own paid
 * calls. Returns what goes into the tool's context.
 */
export async function chargeStep(
  deps: EngineDeps,
  costs: StepCosts | undefined,
  claim: Claimed,
): Promise<Pick<ToolContext, 'budget'>> {
  if (!costs) return {};
  const { step, attemptId, budget } = claim;
  const priceUsd = toolCallCost(step.tool, costs.prices);
  if (budget && !affordable(budget.limitUsd, budget.spentUsd, priceUsd)) {
    throw budgetExceeded({
      limitUsd: budget.limitUsd,
      spentUsd: budget.spentUsd,
      neededUsd: priceUsd,
      what: `step "${step.stepId}" (${step.tool})`,
    });
  }
  if (priceUsd > 0) {
    await deps.repos.costs.chargeTool({
      runId: step.runId,
      stepId: step.stepId,
      attemptId,
      tool: step.tool,
      costUsd: priceUsd,
    });
    costs.afterSpend?.();
  }
  return budget ? { budget: runBudgetGuard(deps.repos.costs, step.runId, budget.limitUsd) } : {};
}

/**
 * A budget stop: by policy the run fails with the budget error (compensating what it did) or
 * waits for approval with the step queued again. Either way the job ends here, not retried and
 * not dead-lettered: there is nothing to replay until someone raises the budget.
 */
export async function stopForBudget(
  deps: EngineDeps & { costs?: StepCosts },
  claim: Claimed,
  error: AppError,
  ctx: Pick<JobContext, 'log'>,
): Promise<{ runFailed: boolean; parked: boolean; superseded: boolean }> {
  const { step, attemptId } = claim;
  const details = error.details ?? {};
  if (deps.costs?.onBudgetExceeded === 'approve') {
    const now = new Date();
    const ttl = deps.costs.approvalTtlMs;
    const { parked, superseded } = await deps.repos.steps.parkForBudget(
      step.runId,
      step.stepId,
      attemptId,
      {
        error: error.toJSON(),
        approval: {
          kind: 'budget',
          reasons: [error.message],
          requestedAt: now.toISOString(),
          expiresAt: ttl > 0 ? new Date(now.getTime() + ttl).toISOString() : null,
          budget: {
            stepId: step.stepId,
            limitUsd: Number(details['limitUsd'] ?? 0),
            spentUsd: Number(details['spentUsd'] ?? 0),
            neededUsd: Number(details['neededUsd'] ?? 0),
          },
        },
      },
    );
    if (!superseded)
      ctx.log.warn({ code: error.code, details, parked }, 'budget stop: run waits for approval');
    return { runFailed: false, parked, superseded };
  }
  const { runFailed, superseded } = await deps.repos.steps.fail(
    step.runId,
    step.stepId,
    attemptId,
    error.toJSON(),
    { final: true },
  );
  if (!superseded)
    ctx.log.warn({ code: error.code, details, runFailed }, 'budget stop: run failed');
  return { runFailed, parked: false, superseded };
}
