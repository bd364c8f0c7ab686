import { z } from 'zod';
import { RiskLevel } from './states';

/** Where a step's duration estimate comes from. */
export const DurationBasis = z.enum(['observed-p50', 'tool-estimate', 'default']);
export type DurationBasis = z.infer<typeof DurationBasis>;

/** What one step of a plan is expected to take and cost. */
export const StepEstimate = z.object({
  stepId: z.string(),
  tool: z.string(),
  /** The higher of the plan's rating of the step and the tool's own rating. */
  risk: RiskLevel,
  estimatedMs: z.number().nonnegative(),
  durationBasis: DurationBasis,
  /** Successful attempts behind an `observed-p50` estimate. */
  samples: z.number().int().nonnegative().optional(),
  /** The tool's price per call plus, for a model step, its tokens priced from the price table. */
  estimatedCostUsd: z.number().nonnegative(),
});
export type StepEstimate = z.infer<typeof StepEstimate>;

/** A plan's risk level and why. */
export const RiskAssessment = z.object({
  level: RiskLevel,
  reasons: z.array(z.string()),
});
export type RiskAssessment = z.infer<typeof RiskAssessment>;

/**
 * What a reviewer sees before a plan runs: per-step estimates, the expected duration (the
 * longest dependency chain), the expected cost, the risk with its reasons, and whether policy
 * asks for approval. Bound to the plan by `planHash`.
 */
export const PlanReview = z.object({
  version: z.literal(1),
  planHash: z.string(),
  /** In execution (topological) order. */
  steps: z.array(StepEstimate),
  estimatedDurationMs: z.number().nonnegative(),
  estimatedCost: z.object({
    /** Already spent making this plan (its model calls). */
    planningUsd: z.number().nonnegative(),
    stepsUsd: z.number().nonnegative(),
    totalUsd: z.number().nonnegative(),
    /** Models a step would call that the price table does not know (their tokens count as 0). */
    unpricedModels: z.array(z.string()),
  }),
  risk: RiskAssessment,
  approval: z.object({ required: z.boolean(), reasons: z.array(z.string()) }),
  estimatedAt: z.string(),
});
export type PlanReview = z.infer<typeof PlanReview>;

/** Why a run waits for a person. */
export const ApprovalKind = z.enum(['dry-run', 'policy', 'fallback', 'budget', 'amended']);
export type ApprovalKind = z.infer<typeof ApprovalKind>;

/** A decision on an approval request, as recorded on the run (and in the audit log). */
export const ApprovalDecision = z.object({
  verdict: z.enum(['approved', 'rejected', 'expired']),
  actor: z.string(),
  reason: z.string().nullable(),
  at: z.string(),
  /** The plan the decision was about. */
  planHash: z.string(),
});
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;

/** A run's approval request and, once made, its decision. */
export const ApprovalRecord = z.object({
  kind: ApprovalKind,
  reasons: z.array(z.string()),
  /** The plan to approve: an approval naming another hash is refused. */
  planHash: z.string(),
  requestedAt: z.string(),
  /** After this the run is rejected (reason: expired); null: the request does not expire. */
  expiresAt: z.string().nullable(),
  /** For a budget stop: the step that was not started, and the spend it would have crossed. */
  budget: z
    .object({
      stepId: z.string(),
      limitUsd: z.number(),
      spentUsd: z.number(),
      neededUsd: z.number(),
    })
    .optional(),
  decision: ApprovalDecision.optional(),
});
export type ApprovalRecord = z.infer<typeof ApprovalRecord>;
