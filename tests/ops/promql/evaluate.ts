import { aggregate } from './aggregate';
import type { Call, Expr } from './ast';
import { binary } from './binary';
import { bucketQuantile, type Bucket } from './bucket-quantile';
import { extrapolatedRate } from './extrapolated-rate';
import { dropLabels, dropName, labelsKey, METRIC_NAME } from './labels';
import { rangeFunctions } from './range-function';
import { selectInstant, selectRange } from './select';
import type { Labels, Series, Value, VectorSample } from './types';

/**
 * The value of `expr` at time `t` (ms) over the recorded `series`: the PromQL subset of
 * {@link Expr} with the functions `rate`, `increase`, `histogram_quantile` and those of
 * {@link rangeFunctions} (`min_over_time`, `changes`, …). Throws on anything else, so a rule using
 * more fails its test instead of passing it wrongly.
 */
export function evaluate(expr: Expr, series: readonly Series[], t: number): Value {
  const at = (e: Expr) => evaluate(e, series, t);
  switch (expr.type) {
    case 'number':
      return { kind: 'scalar', v: expr.value };
    case 'string':
      return { kind: 'string', s: expr.value };
    case 'vector':
      return { kind: 'vector', samples: selectInstant(series, expr, t) };
    case 'matrix':
      return { kind: 'matrix', series: selectRange(series, expr, t) };
    case 'unary': {
      const v = at(expr.expr);
      if (expr.op === '+') return v;
      if (v.kind === 'scalar') return { kind: 'scalar', v: -v.v };
      return {
        kind: 'vector',
        samples: vector(v).map((s) => ({ labels: dropName(s.labels), v: -s.v })),
      };
    }
    case 'aggregate':
      if (expr.param !== undefined) throw new Error(`unsupported aggregation ${expr.op}(param, …)`);
      return { kind: 'vector', samples: aggregate(expr.op, expr.grouping, vector(at(expr.expr))) };
    case 'binary':
      return binary(expr.op, at(expr.lhs), at(expr.rhs), expr.returnBool, expr.matching);
    case 'call':
      return call(expr, series, t);
  }
}

function vector(v: Value): readonly VectorSample[] {
  if (v.kind !== 'vector') throw new Error(`expected an instant vector, got a ${v.kind}`);
  return v.samples;
}

function call(expr: Call, series: readonly Series[], t: number): Value {
  const [first, second] = expr.args;
  switch (expr.fn) {
    case 'rate':
    case 'increase': {
      if (first?.type !== 'matrix' || expr.args.length !== 1) {
        throw new Error(`${expr.fn}() takes one range vector`);
      }
      const end = t - first.selector.offsetMs;
      const out: VectorSample[] = [];
      for (const s of selectRange(series, first, t)) {
        const v = extrapolatedRate(s.samples, end - first.rangeMs, end, expr.fn === 'rate');
        if (v !== undefined) out.push({ labels: dropName(s.labels), v });
      }
      return { kind: 'vector', samples: out };
    }
    case 'histogram_quantile': {
      if (first === undefined || second === undefined || expr.args.length !== 2) {
        throw new Error('histogram_quantile() takes a scalar and a vector');
      }
      const q = evaluate(first, series, t);
      if (q.kind !== 'scalar')
        throw new Error('histogram_quantile(): the quantile must be a scalar');
      return {
        kind: 'vector',
        samples: histogramQuantile(q.v, vector(evaluate(second, series, t))),
      };
    }
    default: {
      const over = rangeFunctions[expr.fn];
      if (over === undefined) break;
      if (first?.type !== 'matrix' || expr.args.length !== 1) {
        throw new Error(`${expr.fn}() takes one range vector`);
      }
      return {
        kind: 'vector',
        samples: selectRange(series, first, t).map((s) => ({
          labels: dropName(s.labels),
          v: over(s.samples),
        })),
      };
    }
  }
  throw new Error(`unsupported function ${expr.fn}() (extend tests/ops/promql)`);
}

/** Groups `_bucket` elements by their labels less `le` and the name; one quantile per group. */
function histogramQuantile(q: number, input: readonly VectorSample[]): VectorSample[] {
  const groups = new Map<string, { labels: Labels; buckets: Bucket[] }>();
  for (const s of input) {
    const le = s.labels.le;
    const upperBound = le === undefined ? NaN : parseFloat(le.replace(/^\+?Inf$/i, 'Infinity'));
    if (Number.isNaN(upperBound)) continue;
    const labels = dropLabels(s.labels, ['le', METRIC_NAME]);
    const key = labelsKey(labels);
    const group = groups.get(key) ?? { labels, buckets: [] };
    group.buckets.push({ upperBound, count: s.v });
    groups.set(key, group);
  }
  return [...groups.values()].map((g) => ({ labels: g.labels, v: bucketQuantile(q, g.buckets) }));
}
