import type { Grouping } from './ast';
import { dropLabels, keepLabels, labelsKey, METRIC_NAME } from './labels';
import type { Labels, VectorSample } from './types';

const reducers: Record<string, (values: readonly number[]) => number> = {
  sum: (vs) => vs.reduce((a, b) => a + b, 0),
  avg: (vs) => vs.reduce((a, b) => a + b, 0) / vs.length,
  count: (vs) => vs.length,
  // Prometheus: NaN only when every value is NaN.
  max: (vs) => vs.reduce((a, b) => (Number.isNaN(a) || b > a ? b : a), NaN),
  min: (vs) => vs.reduce((a, b) => (Number.isNaN(a) || b < a ? b : a), NaN),
};

/**
 * `op by (…) (vector)` / `op without (…) (vector)` for `sum`, `avg`, `count`, `min`, `max`.
 * The output has the grouping labels (`by`), or the input's labels less the named ones and the
 * metric name (`without`); no grouping at all is `by ()`. Throws on another operator.
 */
export function aggregate(
  op: string,
  grouping: Grouping | undefined,
  input: readonly VectorSample[],
): VectorSample[] {
  const reduce = reducers[op];
  if (reduce === undefined) throw new Error(`unsupported aggregation ${op}`);
  const groups = new Map<string, { labels: Labels; values: number[] }>();
  for (const sample of input) {
    const labels =
      grouping?.mode === 'without'
        ? dropLabels(sample.labels, [...grouping.labels, METRIC_NAME])
        : keepLabels(
            sample.labels,
            (grouping?.labels ?? []).filter((l) => l !== METRIC_NAME),
          );
    const key = labelsKey(labels);
    const group = groups.get(key) ?? { labels, values: [] };
    group.values.push(sample.v);
    groups.set(key, group);
  }
  return [...groups.values()].map((g) => ({ labels: g.labels, v: reduce(g.values) }));
}
