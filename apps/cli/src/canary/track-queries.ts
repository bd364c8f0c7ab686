/** The PromQL of one track's measurements (see {@link trackQueries}). */
export interface TrackQueries {
  /** Step executions that ended in the window, `by (outcome)`. */
  steps: string;
  /** p95 of the step durations in the window, in seconds. */
  p95: string;
  /** Each scrape target's lowest `up` in the window. */
  up: string;
  /** Changes of each target's process start time in the window: restarts. */
  restarts: string;
  /** Jobs dead-lettered in the window, `by (queue)`. */
  deadLetters: string;
}

/**
 * How much the counter `metric` grew in the window, summed `by` the given labels. A series
 * absent at the window's start counts from 0: prom-client creates a labelled counter at its first
 * increment, with the value 1, and `increase()` only sees growth between two samples — the first
 * failure or dead letter of a fresh canary pod would be invisible to it. So: `increase()` for
 * the series that existed a window ago, plus the current value of those that did not.
 */
export function counterGrowth(metric: string, selector: string, window: string, by: string) {
  const m = `${metric}{${selector}}`;
  return (
    `sum by (${by}) ((increase(${m}[${window}]) and ${m} offset ${window})` +
    ` or (${m} unless ${m} offset ${window}))`
  );
}

/**
 * The queries that measure one track (the canary or the baseline): `selector` (label matchers
 * such as `track="canary"`) goes inside the braces of every selector, `window` (`5m`) is the
 * range. Metric names and labels: docs/metrics.md.
 */
export function trackQueries(selector: string, window: string): TrackQueries {
  return {
    steps: counterGrowth('agentry_executor_steps_total', selector, window, 'outcome'),
    p95:
      'histogram_quantile(0.95, ' +
      `${counterGrowth('agentry_executor_step_duration_seconds_bucket', selector, window, 'le')})`,
    up: `min_over_time(up{${selector}}[${window}])`,
    // prom-client's default process metrics: a container that restarts in the same pod keeps its
    // target (instance) and gets a new start time.
    restarts: `changes(process_start_time_seconds{${selector}}[${window}])`,
    deadLetters: counterGrowth('agentry_queue_dead_letters_total', selector, window, 'queue'),
  };
}
