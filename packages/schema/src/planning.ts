import { z } from 'zod';
import { ErrorCode } from './errors';

/** Why and how a planner in the chain was tried for a run. */
export const PlanningHop = z.object({
  /** `llm:<provider>:<model>`, `template` or `fallback`. */
  planner: z.string().max(160),
  /** `planned`: this hop made the plan; `skipped`: it could not, see `code` and `reason`. */
  outcome: z.enum(['planned', 'skipped']),
  code: ErrorCode.optional(),
  reason: z.string().max(500).optional(),
  durationMs: z.number().nonnegative(),
});
export type PlanningHop = z.infer<typeof PlanningHop>;

/** How a run's plan was made: every hop of the planner chain, in the order tried. */
export const PlanningRecord = z.object({
  hops: z.array(PlanningHop),
  /**
   * A template that matches the intent when a model planned it anyway: the planning cost a
   * template would have saved (the cost report's `template-match` suggestion).
   */
  templateMatch: z.string().max(128).optional(),
});
export type PlanningRecord = z.infer<typeof PlanningRecord>;

/** What a model call was for. */
export const LlmCallPurpose = z.enum(['plan', 'generate']);
export type LlmCallPurpose = z.infer<typeof LlmCallPurpose>;
