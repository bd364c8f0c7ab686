import { costOf, toolCallCost, type PriceTable } from '@agentry/llm';
import type { Plan, PlanReview, StepEstimate } from '@agentry/schema';
import { policyReasons, maxRisk, type ApprovalPolicy } from './approval-policy';
import { assessRisk } from './assess-risk';
import {
  defaultStepMs,
  minObservedSamples,
  type ObservedDuration,
  type ToolProfile,
} from './tool-profile';

/** How model steps are priced in a review. */
export interface ReviewPricing {
  prices: PriceTable;
  /** The model a model step is expected to call (the primary); undefined when none is set. */
  model: string | undefined;
}

export interface ReviewInput {
  plan: Plan;
  /** Step ids in execution order (`validatePlan`'s `order`). */
  order: readonly string[];
  hash: string;
  /** What planning this plan already cost (its model calls). */
  planningCostUsd: number;
  tools: (name: string) => ToolProfile | undefined;
  /** Recent successful attempts per tool. */
  observed: ReadonlyMap<string, ObservedDuration>;
  pricing: ReviewPricing;
  policy: ApprovalPolicy;
  /** Approval is needed whatever the policy says (a dry run, the safe fallback plan). */
  approvalReasons: readonly string[];
  now: Date;
}

/**
 * The review of a plan: each step's expected duration and cost, the plan's expected duration
 * (the longest chain of dependencies) and cost, its risk with reasons, and whether it needs
 * approval. Pure.
 *
 * A step's duration comes from, in order: what its input decides (`wait`'s `ms`), the median of
 * the tool's recent successful attempts (from {@link minObservedSamples}), the tool's typical
 * duration, then {@link defaultStepMs}. Its cost is the tool's price per call plus, for a tool
 * that calls a model, the estimated tokens priced as `pricing.model`.
 */
export function reviewPlan(input: ReviewInput): PlanReview {
  const byId = new Map(input.plan.steps.map((s) => [s.id, s]));
  const unpriced = new Set<string>();
  const steps: StepEstimate[] = input.order.flatMap((id) => {
    const step = byId.get(id);
    if (!step) return [];
    const profile = input.tools(step.tool);
    const estimate = profile?.estimate(step.input) ?? {};
    const observed = input.observed.get(step.tool);
    const duration =
      estimate.ms !== undefined
        ? { estimatedMs: estimate.ms, durationBasis: 'tool-estimate' as const }
        : observed && observed.samples >= minObservedSamples
          ? {
              estimatedMs: observed.p50Ms,
              durationBasis: 'observed-p50' as const,
              samples: observed.samples,
            }
          : profile?.estimatedMs !== undefined
            ? { estimatedMs: profile.estimatedMs, durationBasis: 'tool-estimate' as const }
            : { estimatedMs: defaultStepMs, durationBasis: 'default' as const };
    let costUsd = toolCallCost(step.tool, input.pricing.prices);
    if (estimate.model) {
      const model = input.pricing.model ?? '(no model configured)';
      const priced = costOf(model, estimate.model, input.pricing.prices);
      if (!priced.priced) unpriced.add(model);
      costUsd += priced.costUsd;
    }
    return [
      {
        stepId: step.id,
        tool: step.tool,
        risk: maxRisk(step.risk, profile?.risk ?? 'low'),
        ...duration,
        estimatedCostUsd: costUsd,
      },
    ];
  });
  const stepsUsd = steps.reduce((sum, s) => sum + s.estimatedCostUsd, 0);
  const totalUsd = input.planningCostUsd + stepsUsd;
  const risk = assessRisk(steps, totalUsd);
  const reasons = [
    ...input.approvalReasons,
    ...policyReasons(input.policy, { risk: risk.level, costUsd: totalUsd, steps }),
  ];
  return {
    version: 1,
    planHash: input.hash,
    steps,
    estimatedDurationMs: longestChainMs(input.plan, steps),
    estimatedCost: {
      planningUsd: input.planningCostUsd,
      stepsUsd,
      totalUsd,
      unpricedModels: [...unpriced],
    },
    risk,
    approval: { required: reasons.length > 0, reasons },
    estimatedAt: input.now.toISOString(),
  };
}

/** The longest path through the dependency graph, each step weighted by its estimate. */
function longestChainMs(plan: Plan, steps: readonly StepEstimate[]): number {
  const deps = new Map(plan.steps.map((s) => [s.id, s.dependsOn]));
  const finish = new Map<string, number>();
  // `steps` is in execution order, so every dependency's finish is known before its dependent's.
  for (const step of steps) {
    const start = Math.max(0, ...(deps.get(step.stepId) ?? []).map((d) => finish.get(d) ?? 0));
    finish.set(step.stepId, start + step.estimatedMs);
  }
  return Math.max(0, ...finish.values());
}
