import type { ApprovalRecord, PlanReview, ValidatedPlan } from '@agentry/schema';
import type { ApprovalPolicy } from './approval-policy';
import { reviewPlan, type ReviewPricing } from './review-plan';
import type { ObservedDuration, ToolProfile } from './tool-profile';

/** What reviewing a plan needs. */
export interface PlanReviewDeps {
  tools: (name: string) => ToolProfile | undefined;
  /** Recent median durations per tool (cached: see {@link cachedDurations}). */
  durations: () => Promise<ReadonlyMap<string, ObservedDuration>>;
  pricing: ReviewPricing;
  policy: ApprovalPolicy;
  clock?: () => Date;
}

/** A reviewed plan: where the run goes next and, when it waits, why. */
export interface ReviewedPlan {
  review: PlanReview;
  next: 'running' | 'awaiting_approval';
  approval?: ApprovalRecord;
}

/**
 * Review a validated plan and apply the approval policy: a dry run, the safe fallback plan and a
 * plan a reviewer amended always wait; otherwise the policy's rules (risk, cost, must-approve
 * tools) decide. The approval
 * request is bound to the plan's hash and expires after the policy's time to live.
 */
export async function reviewForRun(
  deps: PlanReviewDeps,
  plan: { validated: ValidatedPlan; hash: string; planningCostUsd: number },
  why: { dryRun: boolean; fallback: boolean; amended?: string },
): Promise<ReviewedPlan> {
  const now = (deps.clock ?? (() => new Date()))();
  const approvalReasons = [
    ...(why.dryRun ? ['dry run: nothing runs until the plan is approved'] : []),
    ...(why.fallback
      ? ['no planner could plan the intent: a person must review the fallback']
      : []),
    ...(why.amended === undefined ? [] : [why.amended]),
  ];
  const review = reviewPlan({
    plan: plan.validated.plan,
    order: plan.validated.order,
    hash: plan.hash,
    planningCostUsd: plan.planningCostUsd,
    tools: deps.tools,
    observed: await deps.durations(),
    pricing: deps.pricing,
    policy: deps.policy,
    approvalReasons,
    now,
  });
  if (!review.approval.required) return { review, next: 'running' };
  const ttl = deps.policy.ttlMs;
  return {
    review,
    next: 'awaiting_approval',
    approval: {
      kind: why.dryRun ? 'dry-run' : why.fallback ? 'fallback' : why.amended ? 'amended' : 'policy',
      reasons: review.approval.reasons,
      planHash: plan.hash,
      requestedAt: now.toISOString(),
      expiresAt: ttl > 0 ? new Date(now.getTime() + ttl).toISOString() : null,
    },
  };
}

/**
 * `load` behind a cache of `ttlMs`: one load at a time, the last answer served meanwhile, an
 * empty map (no history) when the first load fails — a review never fails for want of history.
 */
export function cachedDurations(
  load: () => Promise<ReadonlyMap<string, ObservedDuration>>,
  ttlMs = 60_000,
  onError: (e: unknown) => void = () => undefined,
): () => Promise<ReadonlyMap<string, ObservedDuration>> {
  let value: ReadonlyMap<string, ObservedDuration> = new Map();
  let loadedAt = -Infinity;
  let loading: Promise<ReadonlyMap<string, ObservedDuration>> | undefined;
  return () => {
    if (performance.now() - loadedAt < ttlMs) return Promise.resolve(value);
    loading ??= load()
      .then((fresh) => {
        value = fresh;
        loadedAt = performance.now();
        return fresh;
      })
      .catch((e: unknown) => {
        onError(e);
        return value;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  };
}
