import { describe, expect, it } from 'vitest';
import {
  bucketQuantile,
  evaluate,
  evaluateAlertingRule,
  expandValues,
  extrapolatedRate,
  formatG4,
  parseDuration,
  parseExpr,
  parseInputSeries,
  PromQLError,
  renderTemplate,
  type InputSeries,
  type Value,
} from './promql';

const MIN = 60_000;

/** Evaluates `query` at `t` over series in promtool notation (1m apart). */
function query(q: string, input: Record<string, string>, t: number): Value {
  const series = Object.entries(input).map(([s, values]): InputSeries => ({ series: s, values }));
  return evaluate(parseExpr(q), parseInputSeries(series), t);
}

/** The elements of an instant vector as `{labels} → value`, sorted, for compact expectations. */
function samples(v: Value): Record<string, number> {
  if (v.kind !== 'vector') throw new Error(`expected a vector, got ${v.kind}`);
  return Object.fromEntries(
    v.samples.map((s) => [
      Object.entries(s.labels)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, val]) => `${k}=${val}`)
        .join(','),
      s.v,
    ]),
  );
}

describe('parseDuration', () => {
  it('reads units, compound durations, signs and plain seconds', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('-5m')).toBe(-300_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5')).toBe(1_500);
    expect(() => parseDuration('5 minutes')).toThrow(/not a duration/);
  });
});

describe("promtool's values notation", () => {
  it('expands a+bxn, a-bxn and axn into n + 1 values', () => {
    expect(expandValues('-2+4x3')).toEqual([-2, 2, 6, 10]);
    expect(expandValues('1-2x4')).toEqual([1, -1, -3, -5, -7]);
    expect(expandValues('1x4')).toEqual([1, 1, 1, 1, 1]);
    expect(expandValues('0.5+0.25x2')).toEqual([0.5, 0.75, 1]);
  });

  it('reads _ and _xn as missing samples and stale as a staleness marker', () => {
    expect(expandValues('1 _x3 stale 2 _')).toEqual([1, '_', '_', '_', 'stale', 2, '_']);
    expect(expandValues('Inf -Inf')).toEqual([Infinity, -Infinity]);
    expect(expandValues('NaN')[0]).toBeNaN();
  });

  it('rejects what it does not know', () => {
    expect(() => expandValues('1+x3')).toThrow(/notation/);
  });

  it('places slot i at i × interval and leaves missing slots out', () => {
    const [s] = parseInputSeries([{ series: 'x{a="b"}', values: '1 _ 3' }], 30_000);
    expect(s?.labels).toEqual({ __name__: 'x', a: 'b' });
    expect(s?.samples).toEqual([
      { t: 0, v: 1 },
      { t: 60_000, v: 3 },
    ]);
    expect(() => parseInputSeries([{ series: 'x{a=~"b"}', values: '1' }])).toThrow(/not a series/);
  });
});

describe('parseExpr', () => {
  it("follows PromQL's precedence: and/or/unless below comparisons below arithmetic", () => {
    const e = parseExpr('a / b > 0.5 and c');
    expect(e.type === 'binary' && e.op).toBe('and');
    const lhs = e.type === 'binary' ? e.lhs : e;
    expect(lhs.type === 'binary' && lhs.op).toBe('>');
  });

  it('reads matchers, offsets, ranges, grouping and matching clauses', () => {
    expect(parseExpr('sum by (le, tool) (rate(x_bucket{a="1",b!~"2|3"}[5m] offset 1m))')).toEqual({
      type: 'aggregate',
      op: 'sum',
      grouping: { mode: 'by', labels: ['le', 'tool'] },
      param: undefined,
      expr: {
        type: 'call',
        fn: 'rate',
        args: [
          {
            type: 'matrix',
            rangeMs: 5 * MIN,
            selector: {
              type: 'vector',
              offsetMs: MIN,
              matchers: [
                { name: '__name__', op: '=', value: 'x_bucket' },
                { name: 'a', op: '=', value: '1' },
                { name: 'b', op: '!~', value: '2|3' },
              ],
            },
          },
        ],
      },
    });
    const on = parseExpr('a and on (job) b');
    expect(on.type === 'binary' && on.matching).toEqual({ mode: 'on', labels: ['job'] });
  });

  it('binds offset and [range] to the selector before them, as Prometheus does', () => {
    expect(parseExpr('a unless b offset 15m')).toEqual(parseExpr('a unless (b offset 15m)'));
    expect(parseExpr('-a offset 1m')).toEqual(parseExpr('-(a offset 1m)'));
    expect(parseExpr('1 + rate(b[5m] offset 1m)')).toEqual(
      parseExpr('1 + rate((b[5m] offset 1m))'),
    );
    expect(() => parseExpr('(a unless b) offset 15m')).toThrow(/offset on a non-selector/);
    expect(() => parseExpr('sum(a) offset 15m')).toThrow(/offset on a non-selector/);
  });

  it('rejects syntax errors and what the evaluator does not support', () => {
    expect(() => parseExpr('x{a="b"')).toThrow(PromQLError);
    expect(() => parseExpr('rate(x[5m)')).toThrow(PromQLError);
    expect(() => parseExpr('a / on (x) group_left b')).toThrow(/group_left/);
    expect(() => parseExpr('x[10m:1m]')).toThrow(/unsupported/);
  });
});

describe('selectors', () => {
  const input = {
    'x{job="a",code="E1"}': '1x10',
    'x{job="b",code="E2"}': '2x10',
    'x{job="ab"}': '3x10',
  };

  it('match with =, !=, =~ and !~, regexes anchored, a missing label as ""', () => {
    expect(samples(query('x{job="a"}', input, 0))).toEqual({ '__name__=x,code=E1,job=a': 1 });
    expect(Object.values(samples(query('x{job!="a"}', input, 0))).sort()).toEqual([2, 3]);
    expect(Object.values(samples(query('x{job=~"a|b"}', input, 0))).sort()).toEqual([1, 2]);
    expect(Object.values(samples(query('x{job!~"a.*"}', input, 0)))).toEqual([2]);
    expect(Object.values(samples(query('x{code=""}', input, 0)))).toEqual([3]);
  });

  it('look back 5 minutes for the latest sample (left-open), and stop at a staleness marker', () => {
    const gappy = { 'y{}': '7 _x9', 'z{}': '1 1 stale' };
    expect(samples(query('y', gappy, 4 * MIN))).toEqual({ '__name__=y': 7 });
    expect(samples(query('y', gappy, 5 * MIN))).toEqual({});
    expect(samples(query('z', gappy, MIN))).toEqual({ '__name__=z': 1 });
    expect(samples(query('z', gappy, 2 * MIN))).toEqual({});
  });

  it('shift by offset', () => {
    expect(samples(query('v offset 2m', { 'v{}': '0+1x10' }, 5 * MIN))).toEqual({
      '__name__=v': 3,
    });
    expect(samples(query('v offset 2m', { 'v{}': '0+1x10' }, MIN))).toEqual({});
  });
});

describe('rate and increase (hand-computed)', () => {
  it('extrapolate a steady counter to the window edges: 1/s over 5m', () => {
    // Window (5m, 10m]: samples at 6m…10m, 360…600; 240 over 240 s, 60 s to the start
    // (< 1.1 × 60 s spacing, so extrapolated all the way): 240 × 300/240 = 300.
    const input = { 'c{}': '0+60x10' };
    expect(samples(query('increase(c[5m])', input, 10 * MIN))).toEqual({ '': 300 });
    expect(samples(query('rate(c[5m])', input, 10 * MIN))).toEqual({ '': 1 });
  });

  it('add the value before a counter reset back', () => {
    // 10 20 5 15: 15 - 10 + 20 = 25 over 180 s; 60 s to the start: 25 × 240/180.
    const v = samples(query('increase(c[4m])', { 'c{}': '10 20 5 15' }, 3 * MIN));
    expect(v['']).toBeCloseTo(100 / 3, 10);
  });

  it('extrapolate by half a spacing when the series starts inside the window', () => {
    // 5 6 7 at 0…2m, window (-8m, 2m]: 2 over 120 s, start far (480 s ≥ 66 s) → 30 s: 2 × 150/120.
    expect(
      extrapolatedRate(
        [0, 1, 2].map((i) => ({ t: i * MIN, v: 5 + i })),
        -8 * MIN,
        2 * MIN,
        false,
      ),
    ).toBe(2.5);
  });

  it('never extrapolate below zero', () => {
    // 1 3 5 at 0…2m, window (-1m, 2m]: 4 over 120 s; 60 s to the start, but 0 was 30 s before.
    expect(
      extrapolatedRate(
        [1, 3, 5].map((v, i) => ({ t: i * MIN, v })),
        -MIN,
        2 * MIN,
        false,
      ),
    ).toBe(5);
  });

  it('give nothing for one sample, and 0 for a series that appears already at 1', () => {
    expect(samples(query('increase(c[5m])', { 'c{}': '_x4 1' }, 4 * MIN))).toEqual({});
    expect(samples(query('increase(c[5m])', { 'c{}': '_x2 1 1 1' }, 4 * MIN))).toEqual({ '': 0 });
  });

  it('drop the metric name and keep the other labels', () => {
    expect(samples(query('rate(c{a="1"}[2m])', { 'c{a="1"}': '0+60x4' }, 4 * MIN))).toEqual({
      'a=1': 1,
    });
  });
});

describe('histogram_quantile (hand-computed)', () => {
  const buckets = [
    { upperBound: 0.1, count: 10 },
    { upperBound: 0.5, count: 30 },
    { upperBound: 1, count: 40 },
    { upperBound: Infinity, count: 40 },
  ];

  it('interpolates linearly inside the bucket the rank falls in', () => {
    // q 0.5: rank 20, bucket (0.1, 0.5] holds 20, rank 10 into it → 0.1 + 0.4 × 10/20.
    expect(bucketQuantile(0.5, buckets)).toBeCloseTo(0.3, 12);
    // q 0.95: rank 38, bucket (0.5, 1] holds 10, rank 8 into it → 0.5 + 0.5 × 8/10.
    expect(bucketQuantile(0.95, buckets)).toBeCloseTo(0.9, 12);
    // q 0.05: rank 2, in the first bucket (0, 0.1] of 10 → 0.1 × 2/10.
    expect(bucketQuantile(0.05, buckets)).toBeCloseTo(0.02, 12);
  });

  it('answers the highest finite bound for a rank in +Inf, NaN without +Inf or observations', () => {
    const inInf = [
      { upperBound: 0.1, count: 10 },
      { upperBound: Infinity, count: 20 },
    ];
    expect(bucketQuantile(0.9, inInf)).toBe(0.1);
    expect(bucketQuantile(0.5, buckets.slice(0, 3))).toBeNaN();
    expect(
      bucketQuantile(
        0.5,
        buckets.map((b) => ({ ...b, count: 0 })),
      ),
    ).toBeNaN();
    expect(bucketQuantile(1.5, buckets)).toBe(Infinity);
    expect(bucketQuantile(-1, buckets)).toBe(-Infinity);
  });

  it('groups _bucket series by their labels less le, from the rate of each bucket', () => {
    const input = {
      'h_bucket{tool="a",le="0.1"}': '0+10x10',
      'h_bucket{tool="a",le="0.5"}': '0+30x10',
      'h_bucket{tool="a",le="1"}': '0+40x10',
      'h_bucket{tool="a",le="+Inf"}': '0+40x10',
      'h_bucket{tool="b",le="0.1"}': '0+1x10',
      'h_bucket{tool="b",le="+Inf"}': '0+1x10',
    };
    const v = samples(
      query('histogram_quantile(0.95, sum by (le, tool) (rate(h_bucket[5m])))', input, 10 * MIN),
    );
    expect(v['tool=a']).toBeCloseTo(0.9, 12);
    expect(v['tool=b']).toBeCloseTo(0.095, 12);
  });
});

describe('aggregation', () => {
  const input = {
    'm{job="p",q="a"}': '1',
    'm{job="e",q="a"}': '3',
    'm{job="e",q="b"}': '5',
  };

  it('sum, max, min, avg and count by or without labels, dropping the name', () => {
    expect(samples(query('sum by (q) (m)', input, 0))).toEqual({ 'q=a': 4, 'q=b': 5 });
    expect(samples(query('sum(m)', input, 0))).toEqual({ '': 9 });
    expect(samples(query('max without (q) (m)', input, 0))).toEqual({ 'job=e': 5, 'job=p': 1 });
    expect(samples(query('min(m) by (job)', input, 0))).toEqual({ 'job=e': 3, 'job=p': 1 });
    expect(samples(query('avg(m)', input, 0))).toEqual({ '': 3 });
    expect(samples(query('count by (q) (m)', input, 0))).toEqual({ 'q=a': 2, 'q=b': 1 });
  });

  it('rejects aggregations outside the subset', () => {
    expect(() => query('topk(1, m)', input, 0)).toThrow(/unsupported aggregation/);
    expect(() => query('stddev(m)', input, 0)).toThrow(/unsupported aggregation/);
  });
});

describe('binary operators', () => {
  const input = {
    'used{job="api"}': '80',
    'limit{job="api"}': '100',
    'limit{job="other"}': '0',
    'up{job="api",instance="a"}': '1',
    'up{job="api",instance="b"}': '0',
  };

  it('arithmetic drops the name; a comparison filters and keeps it; bool gives 0/1', () => {
    expect(samples(query('used * 2', input, 0))).toEqual({ 'job=api': 160 });
    expect(samples(query('used > 50', input, 0))).toEqual({ '__name__=used,job=api': 80 });
    expect(samples(query('used > 90', input, 0))).toEqual({});
    expect(samples(query('used > bool 90', input, 0))).toEqual({ 'job=api': 0 });
    expect(samples(query('100 - used', input, 0))).toEqual({ 'job=api': 20 });
    expect(query('1 + 2 * 3', input, 0)).toEqual({ kind: 'scalar', v: 7 });
    expect(() => query('1 > 2', input, 0)).toThrow(/bool/);
  });

  it('matches vector elements on identical labels less the name, or on (…) / ignoring (…)', () => {
    expect(samples(query('used / limit', input, 0))).toEqual({ 'job=api': 0.8 });
    expect(samples(query('limit / limit', input, 0))).toEqual({ 'job=api': 1, 'job=other': NaN });
    expect(samples(query('sum(used) / on () sum(limit)', input, 0))).toEqual({ '': 0.8 });
    expect(() => query('up / ignoring (instance) used', input, 0)).toThrow(/many-to-one/);
    expect(() => query('used / ignoring (instance) up', input, 0)).toThrow(/many-to-many/);
  });

  it('and, or, unless are set operations on the same signatures', () => {
    expect(samples(query('limit and used', input, 0))).toEqual({ '__name__=limit,job=api': 100 });
    expect(samples(query('limit unless used', input, 0))).toEqual({
      '__name__=limit,job=other': 0,
    });
    expect(samples(query('used or limit', input, 0))).toEqual({
      '__name__=used,job=api': 80,
      '__name__=limit,job=other': 0,
    });
    expect(samples(query('up and on (job) used', input, 0))).toEqual({
      '__name__=up,instance=a,job=api': 1,
      '__name__=up,instance=b,job=api': 0,
    });
  });

  it('divides by zero and compares NaN as floats do', () => {
    expect(samples(query('used / (limit - 100)', input, 0))).toEqual({ 'job=api': Infinity });
    expect(samples(query('(limit / limit) > 0', input, 0))).toEqual({ 'job=api': 1 });
  });
});

describe('renderTemplate', () => {
  const data = { labels: { queue: 'agentry.step' }, value: 0.0123 };

  it("renders $labels, $value and Prometheus's humanize functions", () => {
    expect(renderTemplate('{{ $labels.queue }}: {{ $value }}', data)).toBe('agentry.step: 0.0123');
    expect(renderTemplate('{{ $value | humanizePercentage }}', data)).toBe('1.23%');
    expect(renderTemplate('{{$value|humanizeDuration}}', { ...data, value: 330 })).toBe('5m 30s');
    expect(renderTemplate('{{ $value | humanizeDuration }}', { ...data, value: 0.75 })).toBe(
      '750ms',
    );
    expect(renderTemplate('{{ $value | humanizeDuration }}', { ...data, value: 90_061 })).toBe(
      '1d 1h 1m 1s',
    );
    expect(renderTemplate('{{ $value | humanize }}', { ...data, value: 1_234_567 })).toBe('1.235M');
    expect(renderTemplate('{{ $labels.tool }}', data)).toBe('<no value>');
  });

  it('formats like Go %.4g', () => {
    expect(formatG4(0.5)).toBe('0.5');
    expect(formatG4(123456)).toBe('1.235e+05');
    expect(formatG4(0.00001234)).toBe('1.234e-05');
    expect(formatG4(100)).toBe('100');
  });

  it('rejects actions outside the subset', () => {
    expect(() => renderTemplate('{{ range $labels }}x{{ end }}', data)).toThrow(/unsupported/);
    expect(() => renderTemplate('{{ $value | title }}', data)).toThrow(/unsupported/);
  });
});

describe('evaluateAlertingRule', () => {
  const series = parseInputSeries([
    { series: 'g{job="a",instance="i"}', values: '0 0 5 5 5 5 0 0' },
  ]);
  const rule = {
    alert: 'GHigh',
    expr: 'g > 1',
    for: '2m',
    labels: { severity: 'warning', job: 'overridden' },
    annotations: { summary: '{{ $labels.instance }} at {{ $value }}' },
  };

  it('is pending from the first evaluation, firing after `for`, resolved when the expr is empty', () => {
    const states = evaluateAlertingRule(rule, series, { endMs: 7 * MIN }).map((e) =>
      e.alerts.map((a) => a.state).join(),
    );
    expect(states).toEqual(['', '', 'pending', 'pending', 'firing', 'firing', '', '']);
  });

  it("puts the rule's labels over the element's, adds alertname, renders annotations", () => {
    const at4 = evaluateAlertingRule(rule, series, { endMs: 4 * MIN })[4];
    expect(at4?.alerts).toEqual([
      {
        state: 'firing',
        labels: { alertname: 'GHigh', instance: 'i', job: 'overridden', severity: 'warning' },
        annotations: { summary: 'i at 5' },
        activeAt: 2 * MIN,
        value: 5,
      },
    ]);
  });

  it('fires at once without `for`', () => {
    const [, , at2] = evaluateAlertingRule({ ...rule, for: undefined }, series, { endMs: 2 * MIN });
    expect(at2?.alerts.map((a) => a.state)).toEqual(['firing']);
  });
});
