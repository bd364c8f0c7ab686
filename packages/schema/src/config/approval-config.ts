import { z } from 'zod';
import { RiskLevel } from '../states';
import { env, envInt, envList } from './env-types';

/** Variables of the approval and budget policy (planner and executor both read them). */
export const approvalEnv = z.object({
  /** Plans at or above this risk wait for approval even without a dry run; `never` turns it off. */
  AGENTRY_APPROVAL_RISK_AT: env(z.enum([...RiskLevel.options, 'never']).default('high')),
  /** Plans estimated to cost more than this (USD) wait for approval; unset → no cost rule. */
  AGENTRY_APPROVAL_COST_ABOVE_USD: env(z.coerce.number().nonnegative().optional()),
  /** Tools (comma-separated) whose every use waits for approval. */
  AGENTRY_APPROVAL_TOOLS: envList(),
  /** How long an approval request stays open before its run is rejected as expired; 0: forever. */
  AGENTRY_APPROVAL_TTL_MS: envInt(86_400_000, { max: 90 * 86_400_000 }),
  /** What a run's budget stop does: fail the run, or park it for approval (with a new budget). */
  AGENTRY_BUDGET_EXCEEDED_ACTION: env(z.enum(['fail', 'approve']).default('fail')),
});
export type ApprovalEnv = z.output<typeof approvalEnv>;

/** The approval and budget policy as code uses it. */
export interface ApprovalSettings {
  riskAt: RiskLevel | 'never';
  costAboveUsd: number | undefined;
  tools: string[];
  ttlMs: number;
  onBudgetExceeded: 'fail' | 'approve';
}

export function toApprovalSettings(e: ApprovalEnv): ApprovalSettings {
  return {
    riskAt: e.AGENTRY_APPROVAL_RISK_AT,
    costAboveUsd: e.AGENTRY_APPROVAL_COST_ABOVE_USD,
    tools: e.AGENTRY_APPROVAL_TOOLS,
    ttlMs: e.AGENTRY_APPROVAL_TTL_MS,
    onBudgetExceeded: e.AGENTRY_BUDGET_EXCEEDED_ACTION,
  };
}
