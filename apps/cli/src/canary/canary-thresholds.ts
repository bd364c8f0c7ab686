/** The limits {@link decideCanary} judges a canary by; every field has a flag of its own. */
export interface CanaryThresholds {
  /** Highest share of the canary's step executions that may fail (0.01 = 1%). @default 0.01 */
  maxErrorRate: number;
  /** Highest p95 step duration of the canary, in ms. @default 500 */
  maxP95Ms: number;
  /**
   * The canary's error rate fails against the baseline's only when it is more than this many
   * (absolute) above it … @default 0.005 (0.5 percentage points)
   */
  errorRateMargin: number;
  /** … and more than this many times it. @default 1.5 */
  errorRateFactor: number;
  /** The canary's p95 fails against the baseline's only when it is more than this many times it … @default 1.25 */
  p95Factor: number;
  /** … and more than this many ms above it (histogram buckets make small latencies coarse). @default 50 */
  p95MarginMs: number;
  /** Fewer step executions than this in the window is too little traffic to judge. @default 50 */
  minSteps: number;
}

/** The defaults of {@link CanaryThresholds}. */
export const defaultCanaryThresholds: Readonly<CanaryThresholds> = {
  maxErrorRate: 0.01,
  maxP95Ms: 500,
  errorRateMargin: 0.005,
  errorRateFactor: 1.5,
  p95Factor: 1.25,
  p95MarginMs: 50,
  minSteps: 50,
};
