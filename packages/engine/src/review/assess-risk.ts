import type { RiskAssessment, RiskLevel } from '@agentry/schema';
import { maxRisk, riskAtLeast, usd } from './approval-policy';

/** Plans this broad are at least medium risk; at the second figure, high. */
export const breadthThresholds = { medium: 10, high: 25 } as const;
/** Plans expected to cost more than this are at least medium risk; above the second, high. */
export const costThresholdsUsd = { medium: 1, high: 10 } as const;

const listed = 5;

/**
 * A plan's risk: the highest of its steps' ratings (each the higher of the plan's rating and the
 * tool's own), raised by its breadth (number of steps) and its estimated cost, with a reason for
 * every factor that set or raised it.
 */
export function assessRisk(
  steps: ReadonlyArray<{ stepId: string; tool: string; risk: RiskLevel }>,
  costUsd: number,
): RiskAssessment {
  let level: RiskLevel = 'low';
  const reasons: string[] = [];
  const risky = steps.filter((s) => riskAtLeast(s.risk, 'medium'));
  for (const step of risky.slice(0, listed)) {
    level = maxRisk(level, step.risk);
    reasons.push(`step "${step.stepId}" (${step.tool}) is ${step.risk} risk`);
  }
  for (const step of risky.slice(listed)) level = maxRisk(level, step.risk);
  if (risky.length > listed) reasons.push(`and ${risky.length - listed} more steps above low`);
  const breadth = breadthThresholds;
  if (steps.length >= breadth.medium) {
    const raised: RiskLevel = steps.length >= breadth.high ? 'high' : 'medium';
    level = maxRisk(level, raised);
    reasons.push(`${steps.length} steps (${raised} from ${breadth[raised]} steps)`);
  }
  const cost = costThresholdsUsd;
  if (costUsd > cost.medium) {
    const raised: RiskLevel = costUsd > cost.high ? 'high' : 'medium';
    level = maxRisk(level, raised);
    reasons.push(`estimated cost ${usd(costUsd)} (${raised} above ${usd(cost[raised])})`);
  }
  if (reasons.length === 0) reasons.push('every step is low risk');
  return { level, reasons };
}
