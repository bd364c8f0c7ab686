import type { CanaryCheck } from './canary-check';
import { canaryChecks } from './canary-checks';
import type { CanaryThresholds } from './canary-thresholds';
import type { TrackMeasurement } from './track-measurement';

/** What to do with the canary. */
export type CanaryVerdict = 'promote' | 'rollback' | 'inconclusive';

/** The exit code of `agentry canary analyze` for each verdict (1: no analysis could be made). */
export const canaryExitCodes: Readonly<Record<CanaryVerdict, number>> = {
  promote: 0,
  rollback: 2,
  inconclusive: 3,
};

/** A verdict, why, and every check it rests on. */
export interface CanaryDecision {
  verdict: CanaryVerdict;
  /** `check: reason` of each failed check (rollback) or inconclusive check (inconclusive). */
  reasons: string[];
  checks: CanaryCheck[];
}

/**
 * Decide a canary from what was measured on it and on the baseline. Pure; never throws.
 *
 * - `rollback` when any check fails: evidence against the canary wins over missing data;
 * - else `inconclusive` when any check could not be judged for want of data (too little traffic,
 *   no canary target): never a promote without evidence;
 * - else `promote`. Skipped checks (a comparison without baseline traffic) do not block it.
 */
export function decideCanary(
  canary: TrackMeasurement,
  baseline: TrackMeasurement,
  thresholds: CanaryThresholds,
): CanaryDecision {
  const checks = canaryChecks(canary, baseline, thresholds);
  const failed = checks.filter((c) => c.verdict === 'fail');
  const unjudged = checks.filter((c) => c.verdict === 'inconclusive');
  const why = (list: CanaryCheck[]) => list.map((c) => `${c.check}: ${c.reason}`);
  if (failed.length > 0) return { verdict: 'rollback', reasons: why(failed), checks };
  if (unjudged.length > 0) return { verdict: 'inconclusive', reasons: why(unjudged), checks };
  const skipped = checks.filter((c) => c.verdict === 'skip');
  const passed = checks.length - skipped.length;
  return {
    verdict: 'promote',
    reasons: [
      `all ${passed} judged checks passed` +
        (skipped.length > 0 ? `; not judged: ${skipped.map((c) => c.check).join(', ')}` : ''),
    ],
    checks,
  };
}
