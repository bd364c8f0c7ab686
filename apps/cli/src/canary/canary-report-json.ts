import type { AnalysedTrack, CanaryAnalysis } from './analyze-canary';
import type { CanaryCheck } from './canary-check';
import { canaryExitCodes } from './decide-canary';

function track({ selector, measurement, queries }: AnalysedTrack) {
  // JSON has no undefined: "no data" is null.
  return { selector, measurement: { ...measurement, p95Ms: measurement.p95Ms ?? null }, queries };
}

/** A check with its keys in one order, whatever order the check was built in. */
function check(c: CanaryCheck): CanaryCheck {
  const { verdict, unit, canary, baseline, limit, threshold, reason } = c;
  return { check: c.check, verdict, unit, canary, baseline, limit, threshold, reason };
}

/**
 * The `--json` output of `agentry canary analyze`: `verdict`, `exitCode`, `reasons`, `checks`
 * (each with canary and baseline values, limit, threshold, verdict, reason), what was measured on
 * each track with the PromQL that measured it, the window and the thresholds.
 */
export function canaryReportJson(analysis: CanaryAnalysis, prometheus: string) {
  return {
    verdict: analysis.verdict,
    exitCode: canaryExitCodes[analysis.verdict],
    reasons: analysis.reasons,
    checks: analysis.checks.map(check),
    window: analysis.window,
    at: analysis.at.toISOString(),
    prometheus,
    thresholds: analysis.thresholds,
    canary: track(analysis.canary),
    baseline: track(analysis.baseline),
  };
}
