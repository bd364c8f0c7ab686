import type { CanaryCheck } from './canary-check';
import { tooLittleBaselineTraffic, tooLittleCanaryTraffic, type CheckInputs } from './check-inputs';
import { formatCanaryValue } from './format-canary-value';

const ms = (v: number) => formatCanaryValue('ms', v);

/** `p95-latency`: the canary's p95 step duration against `maxP95Ms`. */
export function p95LatencyCheck(i: CheckInputs): CanaryCheck {
  const { canary, baseline, t } = i;
  const head = {
    check: 'p95-latency',
    unit: 'ms',
    canary: canary.p95Ms ?? null,
    baseline: baseline.p95Ms ?? null,
    limit: t.maxP95Ms,
    threshold: `<= ${ms(t.maxP95Ms)}`,
  } as const;
  if (canary.steps < t.minSteps)
    return { ...head, verdict: 'skip', reason: tooLittleCanaryTraffic };
  if (canary.p95Ms === undefined) {
    return {
      ...head,
      verdict: 'inconclusive',
      reason:
        'steps ended on the canary but Prometheus has no step duration histogram ' +
        '(agentry_executor_step_duration_seconds_bucket) for it',
    };
  }
  const what = `the canary's p95 step latency is ${ms(canary.p95Ms)}`;
  return canary.p95Ms > t.maxP95Ms
    ? { ...head, verdict: 'fail', reason: `${what}, above ${ms(t.maxP95Ms)}` }
    : { ...head, verdict: 'pass', reason: what };
}

/** `p95-vs-baseline`: the canary's p95 against the baseline's times the factor plus the margin. */
export function p95VsBaselineCheck(i: CheckInputs): CanaryCheck {
  const { canary, baseline, t } = i;
  const rule = `max(baseline × ${t.p95Factor}, baseline + ${ms(t.p95MarginMs)})`;
  const head = {
    check: 'p95-vs-baseline',
    unit: 'ms',
    canary: canary.p95Ms ?? null,
    baseline: baseline.p95Ms ?? null,
    limit: null,
    threshold: `<= ${rule}`,
  } as const;
  if (canary.steps < t.minSteps)
    return { ...head, verdict: 'skip', reason: tooLittleCanaryTraffic };
  if (canary.p95Ms === undefined) {
    return { ...head, verdict: 'skip', reason: 'not judged: no canary latency (see p95-latency)' };
  }
  if (baseline.steps < t.minSteps) {
    return { ...head, verdict: 'skip', reason: tooLittleBaselineTraffic(i) };
  }
  if (baseline.p95Ms === undefined) {
    return { ...head, verdict: 'skip', reason: 'not judged: Prometheus has no baseline latency' };
  }
  const limit = Math.max(baseline.p95Ms * t.p95Factor, baseline.p95Ms + t.p95MarginMs);
  const judged = { ...head, limit, threshold: `<= ${ms(limit)} = ${rule}` };
  return canary.p95Ms > limit
    ? {
        ...judged,
        verdict: 'fail',
        reason:
          `the canary's p95 ${ms(canary.p95Ms)} is more than ${t.p95Factor} × the baseline's ` +
          `${ms(baseline.p95Ms)} and more than ${ms(t.p95MarginMs)} above it`,
      }
    : {
        ...judged,
        verdict: 'pass',
        reason: `the canary's p95 ${ms(canary.p95Ms)} is within the margin of the baseline's ${ms(baseline.p95Ms)}`,
      };
}
