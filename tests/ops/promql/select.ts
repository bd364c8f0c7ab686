import type { Matcher, MatrixSelector, VectorSelector } from './ast';
import type { Series, VectorSample } from './types';

/** How far back an instant selector looks for a sample (Prometheus's default lookback delta). */
export const LOOKBACK_MS = 5 * 60_000;

/** Whether a label set satisfies every matcher; a missing label matches as `""`. Regexes are anchored. */
export function matchesAll(labels: Readonly<Record<string, string>>, matchers: readonly Matcher[]) {
  return matchers.every((m) => {
    const value = labels[m.name] ?? '';
    switch (m.op) {
      case '=':
        return value === m.value;
      case '!=':
        return value !== m.value;
      case '=~':
        return anchored(m.value).test(value);
      case '!~':
        return !anchored(m.value).test(value);
    }
  });
}

function anchored(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`, 's');
}

/**
 * The instant vector `sel` selects at `t`: per matching series, its latest sample in
 * `(t - offset - 5m, t - offset]`, unless that sample is a staleness marker. Names are kept.
 */
export function selectInstant(
  series: readonly Series[],
  sel: VectorSelector,
  t: number,
): VectorSample[] {
  const at = t - sel.offsetMs;
  const out: VectorSample[] = [];
  for (const s of series) {
    if (!matchesAll(s.labels, sel.matchers)) continue;
    const latest = s.samples.findLast((p) => p.t <= at);
    if (latest === undefined || latest.t <= at - LOOKBACK_MS || latest.stale === true) continue;
    out.push({ labels: s.labels, v: latest.v });
  }
  return out;
}

/**
 * The range vector `m` selects at `t`: per matching series, its samples in
 * `(t - offset - range, t - offset]` (left-open, as in Prometheus 3), staleness markers left out;
 * series with no sample there are left out.
 */
export function selectRange(series: readonly Series[], m: MatrixSelector, t: number): Series[] {
  const end = t - m.selector.offsetMs;
  const start = end - m.rangeMs;
  const out: Series[] = [];
  for (const s of series) {
    if (!matchesAll(s.labels, m.selector.matchers)) continue;
    const samples = s.samples.filter((p) => p.t > start && p.t <= end && p.stale !== true);
    if (samples.length > 0) out.push({ labels: s.labels, samples });
  }
  return out;
}
