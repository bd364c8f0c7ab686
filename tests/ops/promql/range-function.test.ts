import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluate';
import { parseInputSeries } from './input-series';
import { parseExpr } from './parse-expr';
import type { Value } from './types';

const MIN = 60_000;

/** `q` at `t` over series in promtool notation (1m apart), as `{labels} → value`. */
function query(q: string, input: Record<string, string>, t: number): Record<string, number> {
  const series = parseInputSeries(
    Object.entries(input).map(([series, values]) => ({ series, values })),
  );
  const v: Value = evaluate(parseExpr(q), series, t);
  if (v.kind !== 'vector') throw new Error(`expected a vector, got ${v.kind}`);
  return Object.fromEntries(
    v.samples.map((s) => [
      Object.entries(s.labels)
        .map(([k, val]) => `${k}=${val}`)
        .sort()
        .join(','),
      s.v,
    ]),
  );
}

describe('range functions without extrapolation', () => {
  const input = {
    'up{instance="a"}': '1 1 0 1 1 1',
    'up{instance="b"}': '1x5',
    'up{instance="c"}': '1 1 _ _ stale',
    'start{instance="a"}': '100 100 100 250 250 250',
    'c{instance="a"}': '5 6 7 1 2 3',
  };

  it('min/max/sum/avg/count_over_time over the window (t - range, t], dropping the name', () => {
    expect(query('min_over_time(up[5m])', input, 5 * MIN)).toEqual({
      'instance=a': 0,
      'instance=b': 1,
      // Its last sample (t = 1m) is still in the window; the staleness marker is not a sample.
      'instance=c': 1,
    });
    // Left-open: the dip at 2m is outside (2m, 5m].
    expect(query('min_over_time(up{instance="a"}[3m])', input, 5 * MIN)).toEqual({
      'instance=a': 1,
    });
    expect(query('max_over_time(start[5m])', input, 5 * MIN)).toEqual({ 'instance=a': 250 });
    expect(query('sum_over_time(up{instance="a"}[5m])', input, 5 * MIN)).toEqual({
      'instance=a': 4,
    });
    expect(query('avg_over_time(up{instance="b"}[5m])', input, 5 * MIN)).toEqual({
      'instance=b': 1,
    });
    expect(query('count_over_time(up[5m])', input, 5 * MIN)).toEqual({
      'instance=a': 5,
      'instance=b': 5,
      'instance=c': 1,
    });
  });

  it('changes counts value changes, resets counts drops', () => {
    expect(query('changes(start[10m])', input, 5 * MIN)).toEqual({ 'instance=a': 1 });
    expect(query('changes(up{instance="a"}[10m])', input, 5 * MIN)).toEqual({
      'instance=a': 2,
    });
    expect(query('resets(c[10m])', input, 5 * MIN)).toEqual({ 'instance=a': 1 });
    expect(query('changes(start[2m])', input, 5 * MIN)).toEqual({ 'instance=a': 0 });
  });

  it('leaves out series with no sample in the window; rejects an instant vector', () => {
    expect(query('min_over_time(up{instance="c"}[1m])', input, 5 * MIN)).toEqual({});
    expect(() => query('min_over_time(up)', input, 0)).toThrow(/takes one range vector/);
    expect(() => query('quantile_over_time(0.5, up[5m])', input, 0)).toThrow(/unsupported/);
  });
});
