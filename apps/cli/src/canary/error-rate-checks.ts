import type { CanaryCheck } from './canary-check';
import {
  errorRateOf,
  tooLittleBaselineTraffic,
  tooLittleCanaryTraffic,
  type CheckInputs,
} from './check-inputs';
import { formatCanaryValue, formatPoints } from './format-canary-value';

const pct = (v: number) => formatCanaryValue('ratio', v);

/** `error-rate`: the canary's failed share of step executions against `maxErrorRate`. */
export function errorRateCheck(i: CheckInputs): CanaryCheck {
  const { canary, baseline, t } = i;
  const rate = errorRateOf(canary);
  const head = {
    check: 'error-rate',
    unit: 'ratio',
    canary: rate,
    baseline: errorRateOf(baseline),
    limit: t.maxErrorRate,
    threshold: `<= ${pct(t.maxErrorRate)}`,
  } as const;
  if (rate === null || canary.steps < t.minSteps) {
    return { ...head, verdict: 'skip', reason: tooLittleCanaryTraffic };
  }
  const of = `of the canary's ${formatCanaryValue('steps', canary.steps)} step executions failed`;
  return rate > t.maxErrorRate
    ? { ...head, verdict: 'fail', reason: `${pct(rate)} ${of}, above ${pct(t.maxErrorRate)}` }
    : { ...head, verdict: 'pass', reason: `${pct(rate)} ${of}` };
}

/** `error-rate-vs-baseline`: the canary's error rate against the baseline's plus the margins. */
export function errorRateVsBaselineCheck(i: CheckInputs): CanaryCheck {
  const { canary, baseline, t } = i;
  const rate = errorRateOf(canary);
  const base = errorRateOf(baseline);
  const rule = `max(baseline + ${formatPoints(t.errorRateMargin)}, baseline × ${t.errorRateFactor})`;
  const head = {
    check: 'error-rate-vs-baseline',
    unit: 'ratio',
    canary: rate,
    baseline: base,
    limit: null,
    threshold: `<= ${rule}`,
  } as const;
  if (rate === null || canary.steps < t.minSteps) {
    return { ...head, verdict: 'skip', reason: tooLittleCanaryTraffic };
  }
  if (base === null || baseline.steps < t.minSteps) {
    return { ...head, verdict: 'skip', reason: tooLittleBaselineTraffic(i) };
  }
  // Worse only when both hold: an absolute margin (a 0.1% → 0.2% doubling is noise) and a
  // relative one (0.5 pp on a noisy 10% baseline is noise too).
  const limit = Math.max(base + t.errorRateMargin, base * t.errorRateFactor);
  const judged = { ...head, limit, threshold: `<= ${pct(limit)} = ${rule}` };
  return rate > limit
    ? {
        ...judged,
        verdict: 'fail',
        reason:
          `the canary's error rate ${pct(rate)} is more than the baseline's ${pct(base)} + ` +
          `${formatPoints(t.errorRateMargin)} and more than ${t.errorRateFactor} × it`,
      }
    : {
        ...judged,
        verdict: 'pass',
        reason: `the canary's error rate ${pct(rate)} is within the margin of the baseline's ${pct(base)}`,
      };
}
