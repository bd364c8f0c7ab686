import { describe, expect, it } from 'vitest';
import type { CanaryCheckName } from './canary-check';
import { defaultCanaryThresholds, type CanaryThresholds } from './canary-thresholds';
import { decideCanary } from './decide-canary';
import type { TrackMeasurement } from './track-measurement';

/** A healthy track: 1000 steps, 0.2% failed, p95 100 ms, two targets up, nothing else. */
function track(over: Partial<TrackMeasurement> = {}): TrackMeasurement {
  return {
    steps: 1_000,
    failedSteps: 2,
    p95Ms: 100,
    targets: [
      { target: 'a:9464', minUp: 1 },
      { target: 'b:9464', minUp: 1 },
    ],
    restarts: {},
    deadLetters: {},
    ...over,
  };
}

function decide(
  canary: Partial<TrackMeasurement>,
  baseline: Partial<TrackMeasurement> = {},
  thresholds: Partial<CanaryThresholds> = {},
) {
  const decision = decideCanary(track(canary), track(baseline), {
    ...defaultCanaryThresholds,
    ...thresholds,
  });
  const verdicts = Object.fromEntries(decision.checks.map((c) => [c.check, c.verdict]));
  const check = (name: CanaryCheckName) => {
    const found = decision.checks.find((c) => c.check === name);
    if (!found) throw new Error(`no check ${name}`);
    return found;
  };
  return { ...decision, verdicts, check };
}

describe('decideCanary', () => {
  it('promotes a canary like its baseline, every check passed and reported in order', () => {
    const d = decide({});
    expect(d.verdict).toBe('promote');
    expect(d.reasons).toEqual(['all 8 judged checks passed']);
    expect(d.checks.map((c) => [c.check, c.verdict])).toEqual([
      ['traffic', 'pass'],
      ['error-rate', 'pass'],
      ['error-rate-vs-baseline', 'pass'],
      ['p95-latency', 'pass'],
      ['p95-vs-baseline', 'pass'],
      ['targets-up', 'pass'],
      ['restarts', 'pass'],
      ['dead-letters', 'pass'],
    ]);
    expect(d.check('error-rate')).toMatchObject({
      unit: 'ratio',
      canary: 0.002,
      baseline: 0.002,
      limit: 0.01,
      threshold: '<= 1.00%',
    });
  });

  describe('traffic', () => {
    it('fewer than minSteps step executions is inconclusive, never a pass', () => {
      const d = decide({ steps: 49, failedSteps: 0 });
      expect(d.verdict).toBe('inconclusive');
      expect(d.reasons).toEqual([
        'traffic: only 49 step executions ended on the canary in the window; at least 50 are needed to judge it',
      ]);
      expect(d.check('traffic')).toMatchObject({ canary: 49, baseline: 1_000, limit: 50 });
      expect(decide({ steps: 50, failedSteps: 0 }).verdict).toBe('promote');
    });

    it('with too little traffic, rates and latencies are not judged: even 100% failed', () => {
      const d = decide({ steps: 10, failedSteps: 10, p95Ms: 9_000 });
      expect(d.verdict).toBe('inconclusive');
      expect(d.verdicts).toMatchObject({
        'error-rate': 'skip',
        'error-rate-vs-baseline': 'skip',
        'p95-latency': 'skip',
        'p95-vs-baseline': 'skip',
      });
    });

    it('no traffic at all: no error rate, inconclusive', () => {
      const d = decide({ steps: 0, failedSteps: 0, p95Ms: undefined });
      expect(d.verdict).toBe('inconclusive');
      expect(d.check('error-rate').canary).toBeNull();
    });

    it('--min-steps moves the bar', () => {
      expect(decide({ steps: 80 }, {}, { minSteps: 100 }).verdict).toBe('inconclusive');
    });
  });

  describe('error-rate', () => {
    it('rolls back above maxErrorRate, naming the rate', () => {
      const d = decide({ failedSteps: 50 }, { failedSteps: 50 });
      expect(d.verdict).toBe('rollback');
      expect(d.verdicts['error-rate']).toBe('fail');
      expect(d.reasons).toContain(
        "error-rate: 5.00% of the canary's 1000 step executions failed, above 1.00%",
      );
      // The baseline is as bad: the comparison passes, the absolute limit still fails.
      expect(d.verdicts['error-rate-vs-baseline']).toBe('pass');
    });

    it('exactly at the limit passes; the flag moves it', () => {
      expect(decide({ failedSteps: 10 }, { failedSteps: 10 }).verdict).toBe('promote');
      expect(decide({ failedSteps: 11 }, { failedSteps: 11 }).verdict).toBe('rollback');
      const relaxed = decide({ failedSteps: 50 }, { failedSteps: 50 }, { maxErrorRate: 0.1 });
      expect(relaxed.verdict).toBe('promote');
    });
  });

  describe('error-rate-vs-baseline', () => {
    it('rolls back when more than baseline + margin AND more than factor × baseline', () => {
      // 0.8% against 0.1%: under 1%, but above max(0.1% + 0.5 pp, 1.5 × 0.1%) = 0.6%.
      const d = decide({ failedSteps: 8 }, { failedSteps: 1 });
      expect(d.verdict).toBe('rollback');
      expect(d.verdicts['error-rate']).toBe('pass');
      const check = d.check('error-rate-vs-baseline');
      expect(check.verdict).toBe('fail');
      expect(check.limit).toBeCloseTo(0.006);
      expect(check.threshold).toBe('<= 0.60% = max(baseline + 0.50 pp, baseline × 1.5)');
      expect(check.reason).toBe(
        "the canary's error rate 0.80% is more than the baseline's 0.10% + 0.50 pp and more than 1.5 × it",
      );
    });

    it('needs both margins: an absolute jump on a high baseline within the factor passes', () => {
      // 0.9% against 0.7%: +0.2 pp only.
      expect(decide({ failedSteps: 9 }, { failedSteps: 7 }).verdict).toBe('promote');
      // 0.9% against 0.3%: 3× but +0.6 pp — fails; with a 1 pp margin it passes.
      expect(decide({ failedSteps: 9 }, { failedSteps: 3 }).verdict).toBe('rollback');
      expect(
        decide({ failedSteps: 9 }, { failedSteps: 3 }, { errorRateMargin: 0.01 }).verdict,
      ).toBe('promote');
      // 40% over a 30% baseline is +10 pp but only 1.33×: passes the comparison.
      const noisy = decide({ failedSteps: 400 }, { failedSteps: 300 }, { maxErrorRate: 1 });
      expect(noisy.verdicts['error-rate-vs-baseline']).toBe('pass');
      expect(
        decide(
          { failedSteps: 400 },
          { failedSteps: 300 },
          { maxErrorRate: 1, errorRateFactor: 1.2 },
        ).verdict,
      ).toBe('rollback');
    });

    it('is skipped, not blocking, when the baseline has too little traffic', () => {
      const d = decide({ failedSteps: 8 }, { steps: 10, failedSteps: 0 });
      expect(d.verdict).toBe('promote');
      expect(d.check('error-rate-vs-baseline')).toMatchObject({
        verdict: 'skip',
        reason:
          'not judged: only 10 step executions on the baseline (fewer than 50), nothing to compare with',
      });
      expect(d.reasons).toEqual([
        'all 6 judged checks passed; not judged: error-rate-vs-baseline, p95-vs-baseline',
      ]);
    });
  });

  describe('p95-latency', () => {
    it('rolls back above maxP95Ms, naming the latency', () => {
      const d = decide({ p95Ms: 975 }, { p95Ms: 900 });
      expect(d.verdict).toBe('rollback');
      expect(d.verdicts['p95-latency']).toBe('fail');
      expect(d.reasons).toContain(
        "p95-latency: the canary's p95 step latency is 975 ms, above 500 ms",
      );
      expect(decide({ p95Ms: 500 }, { p95Ms: 500 }).verdict).toBe('promote');
      expect(decide({ p95Ms: 975 }, { p95Ms: 975 }, { maxP95Ms: 1_000 }).verdict).toBe('promote');
    });

    it('no latency data although steps ended is inconclusive', () => {
      const d = decide({ p95Ms: undefined });
      expect(d.verdict).toBe('inconclusive');
      expect(d.check('p95-latency').verdict).toBe('inconclusive');
      expect(d.check('p95-vs-baseline').verdict).toBe('skip');
    });
  });

  describe('p95-vs-baseline', () => {
    it('rolls back above max(factor × baseline, baseline + margin)', () => {
      const d = decide({ p95Ms: 243 }, { p95Ms: 98 });
      expect(d.verdict).toBe('rollback');
      expect(d.verdicts['p95-latency']).toBe('pass');
      const check = d.check('p95-vs-baseline');
      expect(check).toMatchObject({ verdict: 'fail', limit: 148 });
      expect(check.threshold).toBe('<= 148 ms = max(baseline × 1.25, baseline + 50 ms)');
    });

    it('small latencies need the ms margin too; the factor rules large ones', () => {
      // 1.5× but +20 ms only.
      expect(decide({ p95Ms: 60 }, { p95Ms: 40 }).verdict).toBe('promote');
      expect(decide({ p95Ms: 60 }, { p95Ms: 40 }, { p95MarginMs: 0 }).verdict).toBe('rollback');
      // +80 ms on 400 ms is 1.2×: within the factor.
      expect(decide({ p95Ms: 480 }, { p95Ms: 400 }).verdict).toBe('promote');
      expect(decide({ p95Ms: 480 }, { p95Ms: 400 }, { p95Factor: 1.1 }).verdict).toBe('rollback');
    });

    it('is skipped when the baseline has no latency', () => {
      const d = decide({}, { p95Ms: undefined });
      expect(d.verdict).toBe('promote');
      expect(d.check('p95-vs-baseline').verdict).toBe('skip');
    });
  });

  describe('targets-up', () => {
    it('rolls back when any canary target missed a scrape, naming it, at any traffic', () => {
      const targets = [
        { target: 'a:9464', minUp: 1 },
        { target: 'b:9464', minUp: 0 },
      ];
      const d = decide({ targets, steps: 3, failedSteps: 0 });
      expect(d.verdict).toBe('rollback');
      expect(d.reasons).toEqual([
        'targets-up: 1 of 2 canary targets failed a scrape in the window: b:9464',
      ]);
      expect(d.check('targets-up')).toMatchObject({ canary: 1, baseline: 0 });
    });

    it('no canary target at all is inconclusive', () => {
      const d = decide({ targets: [] });
      expect(d.verdict).toBe('inconclusive');
      expect(d.check('targets-up')).toMatchObject({ verdict: 'inconclusive', canary: null });
      expect(d.reasons[0]).toMatch(/^targets-up: Prometheus has no up series of the canary/);
    });

    it('a baseline target down does not count against the canary', () => {
      const d = decide({}, { targets: [{ target: 'x', minUp: 0 }] });
      expect(d.verdict).toBe('promote');
      expect(d.check('targets-up').baseline).toBe(1);
    });
  });

  describe('restarts', () => {
    it('rolls back when a canary process restarted, naming the target', () => {
      const d = decide({ restarts: { 'a:9464': 1 } }, { restarts: { 'x:9464': 2 } });
      expect(d.verdict).toBe('rollback');
      expect(d.reasons).toEqual(['restarts: canary processes restarted in the window: a:9464 1']);
      expect(d.check('restarts')).toMatchObject({ canary: 1, baseline: 2 });
    });
  });

  describe('dead-letters', () => {
    it('rolls back on any dead letter on the canary, by queue, at any traffic', () => {
      const d = decide({ deadLetters: { 'agentry.step': 2, 'agentry.plan': 1 }, steps: 5 });
      expect(d.verdict).toBe('rollback');
      expect(d.reasons).toEqual([
        'dead-letters: jobs were dead-lettered on the canary in the window: agentry.step 2, agentry.plan 1',
      ]);
      expect(decide({}, { deadLetters: { 'agentry.step': 4 } }).verdict).toBe('promote');
    });

    it('a fraction from extrapolation still fails and prints as one', () => {
      const d = decide({ deadLetters: { 'agentry.step': 0.4 } });
      expect(d.verdict).toBe('rollback');
      expect(d.reasons[0]).toMatch(/agentry\.step 0\.4$/);
    });
  });

  it('a failure outranks missing data: rollback with every failed check as a reason', () => {
    const d = decide({ steps: 10, failedSteps: 0, deadLetters: { q: 1 }, restarts: { a: 1 } });
    expect(d.verdict).toBe('rollback');
    expect(d.reasons.map((r) => r.split(':')[0])).toEqual(['restarts', 'dead-letters']);
  });
});
