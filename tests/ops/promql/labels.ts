import type { Labels } from './types';

export const METRIC_NAME = '__name__';

/** A canonical key of a label set (sorted), for maps and equality. */
export function labelsKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `labels` without the metric name. */
export function dropName(labels: Labels): Labels {
  return dropLabels(labels, [METRIC_NAME]);
}

/** Only the labels named in `keep` (those present). */
export function keepLabels(labels: Labels, keep: readonly string[]): Labels {
  return Object.fromEntries(Object.entries(labels).filter(([name]) => keep.includes(name)));
}

/** `labels` without the labels named in `drop`. */
export function dropLabels(labels: Labels, drop: readonly string[]): Labels {
  return Object.fromEntries(Object.entries(labels).filter(([name]) => !drop.includes(name)));
}

/** `name{a="1", b="2"}`, for messages. */
export function formatLabels(labels: Labels): string {
  const { [METRIC_NAME]: name = '', ...rest } = labels;
  const inner = Object.entries(rest)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  return `${name}{${inner}}`;
}
