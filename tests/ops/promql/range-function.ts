import type { Sample } from './types';

/**
 * The functions of one range vector's samples that need no extrapolation, as Prometheus computes
 * them (promql/functions.go), float samples only. Each maps a series' samples in the window (at
 * least one; staleness markers left out) to one value; the result drops the metric name.
 */
export const rangeFunctions: Readonly<Record<string, (samples: readonly Sample[]) => number>> = {
  // Prometheus: NaN only when every value is NaN.
  min_over_time: (ss) => ss.reduce((a, s) => (Number.isNaN(a) || s.v < a ? s.v : a), NaN),
  max_over_time: (ss) => ss.reduce((a, s) => (Number.isNaN(a) || s.v > a ? s.v : a), NaN),
  sum_over_time: (ss) => ss.reduce((a, s) => a + s.v, 0),
  avg_over_time: (ss) => ss.reduce((a, s) => a + s.v, 0) / ss.length,
  count_over_time: (ss) => ss.length,
  // A change between two NaNs is not one; between a number and NaN it is.
  changes: (ss) =>
    ss.slice(1).filter((s, i) => {
      const before = ss[i]?.v ?? NaN;
      return s.v !== before && !(Number.isNaN(s.v) && Number.isNaN(before));
    }).length,
  resets: (ss) => ss.slice(1).filter((s, i) => s.v < (ss[i]?.v ?? -Infinity)).length,
};
