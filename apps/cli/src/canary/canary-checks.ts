import type { CanaryCheck } from './canary-check';
import type { CanaryThresholds } from './canary-thresholds';
import type { CheckInputs } from './check-inputs';
import { errorRateCheck, errorRateVsBaselineCheck } from './error-rate-checks';
import { formatCanaryValue } from './format-canary-value';
import { deadLettersCheck, restartsCheck, targetsUpCheck } from './health-checks';
import { p95LatencyCheck, p95VsBaselineCheck } from './latency-checks';
import type { TrackMeasurement } from './track-measurement';

/**
 * `traffic`: enough step executions ended on the canary to judge it (`minSteps`); too few is
 * inconclusive, never a pass.
 */
export function trafficCheck({ canary, baseline, t }: CheckInputs): CanaryCheck {
  const n = formatCanaryValue('steps', canary.steps);
  const enough = canary.steps >= t.minSteps;
  return {
    check: 'traffic',
    verdict: enough ? 'pass' : 'inconclusive',
    unit: 'steps',
    canary: canary.steps,
    baseline: baseline.steps,
    limit: t.minSteps,
    threshold: `>= ${t.minSteps} steps`,
    reason: enough
      ? `${n} step executions ended on the canary in the window`
      : `only ${n} step executions ended on the canary in the window; at least ${t.minSteps} ` +
        'are needed to judge it',
  };
}

/**
 * Every check of a canary analysis, in report order. Pure. Rates and latencies are judged only
 * with at least `minSteps` step executions on the canary (and, for the comparisons, on the
 * baseline); failed scrapes, restarts and dead letters are evidence at any traffic.
 */
export function canaryChecks(
  canary: TrackMeasurement,
  baseline: TrackMeasurement,
  thresholds: CanaryThresholds,
): CanaryCheck[] {
  const inputs: CheckInputs = { canary, baseline, t: thresholds };
  return [
    trafficCheck,
    errorRateCheck,
    errorRateVsBaselineCheck,
    p95LatencyCheck,
    p95VsBaselineCheck,
    targetsUpCheck,
    restartsCheck,
    deadLettersCheck,
  ].map((check) => check(inputs));
}
