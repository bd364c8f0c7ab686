import { RiskLevel } from '@agentry/schema';

/**
 * When a plan waits for a person even without a dry run. A plan needs approval when any rule
 * says so; the reasons name each rule that did.
 */
export interface ApprovalPolicy {
  /** Risk at or above this level needs approval; `never` turns the rule off. */
  riskAt: RiskLevel | 'never';
  /** An estimated cost above this needs approval; undefined turns the rule off. */
  costAboveUsd: number | undefined;
  /** Tools whose every use needs approval. */
  tools: readonly string[];
  /** How long an approval request stays open before the run is rejected; 0: forever. */
  ttlMs: number;
}

export const defaultApprovalPolicy: ApprovalPolicy = {
  riskAt: 'high',
  costAboveUsd: undefined,
  tools: [],
  ttlMs: 24 * 3_600_000,
};

const rank = (level: RiskLevel): number => RiskLevel.options.indexOf(level);

/** True when `level` is `floor` or above. */
export const riskAtLeast = (level: RiskLevel, floor: RiskLevel): boolean =>
  rank(level) >= rank(floor);

/** The higher of two levels. */
export const maxRisk = (a: RiskLevel, b: RiskLevel): RiskLevel => (rank(a) >= rank(b) ? a : b);

/** The rules of `policy` a plan with these facts breaks, as reasons a person can read. */
export function policyReasons(
  policy: ApprovalPolicy,
  facts: {
    risk: RiskLevel;
    costUsd: number;
    steps: ReadonlyArray<{ stepId: string; tool: string }>;
  },
): string[] {
  const reasons: string[] = [];
  if (policy.riskAt !== 'never' && riskAtLeast(facts.risk, policy.riskAt)) {
    reasons.push(`risk is ${facts.risk} (policy: approve at ${policy.riskAt} or above)`);
  }
  if (policy.costAboveUsd !== undefined && facts.costUsd > policy.costAboveUsd) {
    reasons.push(
      `estimated cost ${usd(facts.costUsd)} is above ${usd(policy.costAboveUsd)} (policy)`,
    );
  }
  for (const step of facts.steps) {
    if (policy.tools.includes(step.tool)) {
      reasons.push(`step "${step.stepId}" uses ${step.tool}, which policy says must be approved`);
    }
  }
  return reasons;
}

/** Dollars for people: 4 decimals below a cent, else 2. */
export function usd(value: number): string {
  return value < 0.01 && value > 0 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`;
}
