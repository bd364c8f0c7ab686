import type { Sample } from './types';

/**
 * `rate()` (`isRate`) or `increase()` of one counter over the window `(rangeStart, rangeEnd]`
 * (ms), as Prometheus computes it (promql/functions.go `extrapolatedRate`, float samples only):
 *
 * - fewer than two samples: no result (`undefined`);
 * - a drop between two samples is a counter reset: the value before it is added back;
 * - the increase between the first and the last sample is extrapolated towards the window's
 *   edges: all the way to an edge closer than 1.1 × the average sample spacing, else by half a
 *   spacing; and never below the point where the counter would have been 0;
 * - `rate` divides by the window's length in seconds.
 */
export function extrapolatedRate(
  samples: readonly Sample[],
  rangeStart: number,
  rangeEnd: number,
  isRate: boolean,
): number | undefined {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first === undefined || last === undefined || samples.length < 2) return undefined;
  let result = last.v - first.v;
  let previous = first.v;
  for (const s of samples.slice(1)) {
    if (s.v < previous) result += previous;
    previous = s.v;
  }
  let durationToStart = (first.t - rangeStart) / 1_000;
  let durationToEnd = (rangeEnd - last.t) / 1_000;
  const sampledInterval = (last.t - first.t) / 1_000;
  const averageSpacing = sampledInterval / (samples.length - 1);
  const threshold = averageSpacing * 1.1;
  if (durationToStart >= threshold) durationToStart = averageSpacing / 2;
  if (result > 0 && first.v >= 0) {
    const durationToZero = sampledInterval * (first.v / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= threshold) durationToEnd = averageSpacing / 2;
  let factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  if (isRate) factor /= (rangeEnd - rangeStart) / 1_000;
  return result * factor;
}
