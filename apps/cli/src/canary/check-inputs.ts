import type { CanaryThresholds } from './canary-thresholds';
import { formatCanaryValue } from './format-canary-value';
import type { TrackMeasurement } from './track-measurement';

/** What every canary check is a function of. */
export interface CheckInputs {
  canary: TrackMeasurement;
  baseline: TrackMeasurement;
  t: CanaryThresholds;
}

/** The share of a track's step executions that failed; `null` without any. */
export function errorRateOf(m: TrackMeasurement): number | null {
  return m.steps > 0 ? m.failedSteps / m.steps : null;
}

/** The reason of a check that is not judged for too little canary traffic. */
export const tooLittleCanaryTraffic = 'not judged: too little canary traffic (see traffic)';

/** The reason of a comparison that is not judged for too little baseline traffic. */
export function tooLittleBaselineTraffic({ baseline, t }: CheckInputs): string {
  return (
    `not judged: only ${formatCanaryValue('steps', baseline.steps)} step executions on the ` +
    `baseline (fewer than ${t.minSteps}), nothing to compare with`
  );
}
