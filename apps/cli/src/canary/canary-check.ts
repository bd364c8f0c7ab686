/** The checks of a canary analysis, in the order they are reported. */
export const canaryCheckNames = [
  'traffic',
  'error-rate',
  'error-rate-vs-baseline',
  'p95-latency',
  'p95-vs-baseline',
  'targets-up',
  'restarts',
  'dead-letters',
] as const;

/** One of {@link canaryCheckNames}. */
export type CanaryCheckName = (typeof canaryCheckNames)[number];

/**
 * `fail`: evidence against the canary (→ rollback). `inconclusive`: not enough data to judge
 * (→ never a promote). `skip`: not judged, and that does not block a promote (e.g. a baseline
 * comparison without baseline traffic).
 */
export type CanaryCheckVerdict = 'pass' | 'fail' | 'inconclusive' | 'skip';

/** How a check's values read: step counts, a ratio (0.01 = 1%), milliseconds, or a count. */
export type CanaryCheckUnit = 'steps' | 'ratio' | 'ms' | 'count';

/** The outcome of one check, as printed in the table and in `--json`. */
export interface CanaryCheck {
  check: CanaryCheckName;
  verdict: CanaryCheckVerdict;
  unit: CanaryCheckUnit;
  /** The canary's value; `null` when Prometheus had no data for it. */
  canary: number | null;
  /** The baseline's value, for comparison; `null` when Prometheus had no data for it. */
  baseline: number | null;
  /** The value the canary's is held to (see `threshold`); `null` when not judged. */
  limit: number | null;
  /** The rule, e.g. `<= 1.00%` or `>= 50 steps`. */
  threshold: string;
  /** One sentence: why this verdict. */
  reason: string;
}
