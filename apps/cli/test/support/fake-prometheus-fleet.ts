import type { Series, StoredSample } from '../../../../tests/ops/promql';

/** The step duration buckets of the executor (jobDurationBuckets in @agentry/observability). */
const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** How one track (the canary's or the baseline's executors) behaved during the recording. */
export interface TrackSpec {
  /** The `track` label of its series. */
  track: string;
  /** Executor pods (scrape targets). @default 2 */
  targets?: number;
  /** Step executions that end per minute, over all its targets. */
  stepsPerMinute: number;
  /** Share of them that fail. @default 0.002 */
  errorRate?: number;
  /** How long every step takes, in ms. @default 80 */
  latencyMs?: number;
  /** Target 0 cannot be scraped from minute `from` to `to` (up 0, no other samples). */
  down?: { from: number; to: number };
  /** From this minute on, target 0 has dead-lettered one step job (a new series at 1). */
  deadLetterAt?: number;
  /** At this minute target 0's process restarts (new start time, counters from 0). */
  restartAt?: number;
}

/** A recording of a fleet: {@link Series} for the fake Prometheus, and how long it lasts. */
export interface FleetRecording {
  series: Series[];
  durationMs: number;
}

/**
 * Record what Prometheus would have scraped from each track's executors, every `scrapeSeconds`
 * for `minutes` (samples at 0 … minutes): `up`, `process_start_time_seconds`,
 * `agentry_executor_steps_total{tool,outcome}`, `agentry_executor_step_duration_seconds_bucket`
 * and `agentry_queue_dead_letters_total{queue,code}`, labelled `job`, `instance`, `track` and
 * `component` as a Kubernetes scrape would. As with prom-client, a labelled counter has no
 * series before its first increment.
 */
export function recordFleet(
  tracks: readonly TrackSpec[],
  { minutes = 20, scrapeSeconds = 15 } = {},
): FleetRecording {
  const interval = scrapeSeconds * 1_000;
  const slots = Math.round((minutes * 60_000) / interval);
  const out = new Map<string, { labels: Record<string, string>; samples: StoredSample[] }>();
  const put = (labels: Record<string, string>, t: number, v: number) => {
    const key = JSON.stringify(labels);
    const s = out.get(key) ?? { labels, samples: [] };
    s.samples.push({ t, v });
    out.set(key, s);
  };

  for (const spec of tracks) {
    const targets = spec.targets ?? 2;
    const perSlot = (spec.stepsPerMinute / targets) * (scrapeSeconds / 60);
    const errorRate = spec.errorRate ?? 0.002;
    const latency = (spec.latencyMs ?? 80) / 1_000;
    for (let i = 0; i < targets; i++) {
      const target = {
        job: 'agentry-executor',
        instance: `${spec.track}-${i}:9464`,
        track: spec.track,
      };
      const own = { ...target, component: 'executor' };
      let startedAt = 1_700_000_000 + i;
      let restartSlot = 0;
      for (let k = 0; k <= slots; k++) {
        const t = k * interval;
        const minute = t / 60_000;
        const down = i === 0 && spec.down && minute >= spec.down.from && minute < spec.down.to;
        put({ __name__: 'up', ...target }, t, down ? 0 : 1);
        if (down) continue;
        if (i === 0 && spec.restartAt !== undefined && minute >= spec.restartAt && !restartSlot) {
          restartSlot = k;
          startedAt += 3_600;
        }
        put({ __name__: 'process_start_time_seconds', ...own }, t, startedAt);
        const total = Math.round(perSlot * (k + 1 - restartSlot));
        const failed = Math.round(total * errorRate);
        const counts = { succeeded: total - failed, failed };
        for (const [outcome, count] of Object.entries(counts)) {
          if (count === 0) continue;
          const step = { ...own, tool: 'http', outcome };
          put({ __name__: 'agentry_executor_steps_total', ...step }, t, count);
          for (const le of [...BUCKETS.map(String), '+Inf']) {
            const fits = le === '+Inf' || Number(le) >= latency;
            const bucket = {
              __name__: 'agentry_executor_step_duration_seconds_bucket',
              ...step,
              le,
            };
            put(bucket, t, fits ? count : 0);
          }
        }
        if (i === 0 && spec.deadLetterAt !== undefined && minute >= spec.deadLetterAt) {
          const letter = { queue: 'agentry.step', code: 'TOOL_FAILED' };
          put({ __name__: 'agentry_queue_dead_letters_total', ...own, ...letter }, t, 1);
        }
      }
    }
  }
  return { series: [...out.values()], durationMs: slots * interval };
}
