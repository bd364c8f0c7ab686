import { z } from 'zod';
import { limits } from './limits';
import { RiskLevel } from './states';

export const StepId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'step id: 1-63 chars of a-z, 0-9, "_" or "-"');

export const ToolName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$/, 'tool name like "http.request"');

/** One tool call in a plan. `input` is checked against the tool's own schema by the executor. */
export const Step = z.strictObject({
  id: StepId,
  tool: ToolName,
  input: z.record(z.string(), z.unknown()).default({}),
  dependsOn: z.array(StepId).default([]),
  timeoutMs: z.number().int().positive().max(limits.stepTimeoutMaxMs).default(30_000),
  maxAttempts: z.number().int().min(1).max(limits.stepMaxAttempts).default(3),
  risk: RiskLevel.default('low'),
});
export type Step = z.output<typeof Step>;
export type StepInput = z.input<typeof Step>;

export const PlanSource = z.enum(['template', 'llm', 'fallback']);
export type PlanSource = z.infer<typeof PlanSource>;

/** A validated, ordered set of steps forming a DAG. */
export const Plan = z.strictObject({
  version: z.literal(1).default(1),
  source: PlanSource,
  /** Which template or model produced it, for the operator. */
  producedBy: z.string().max(128),
  summary: z.string().max(2_000),
  steps: z.array(Step).min(1, 'a plan has at least one step').max(limits.planMaxSteps),
});
export type Plan = z.output<typeof Plan>;
export type PlanInput = z.input<typeof Plan>;
