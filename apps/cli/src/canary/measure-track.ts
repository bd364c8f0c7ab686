import type { PrometheusSample } from './prometheus-client';
import type { TrackMeasurement } from './track-measurement';
import type { TrackQueries } from './track-queries';

/** Runs one PromQL query; see `PrometheusClient.query`. */
export type RunQuery = (promql: string) => Promise<PrometheusSample[]>;

/** How a scrape target is named in reasons: its `instance`, else its `pod`, else its labels. */
export function targetName(metric: Readonly<Record<string, string>>): string {
  return metric.instance ?? metric.pod ?? JSON.stringify(metric);
}

/** Sums samples by one label; only keys whose sum is above 0 are kept. */
function positiveBy(samples: readonly PrometheusSample[], key: (s: PrometheusSample) => string) {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (!(s.value > 0)) continue;
    const k = key(s);
    out[k] = (out[k] ?? 0) + s.value;
  }
  return out;
}

/**
 * Measure one track with the queries of `trackQueries` (run concurrently). An empty answer is
 * "none" for counts, "no data" for the latency. Rejects with the first query's failure.
 */
export async function measureTrack(run: RunQuery, q: TrackQueries): Promise<TrackMeasurement> {
  const [steps, p95, up, restarts, deadLetters] = await Promise.all([
    run(q.steps),
    run(q.p95),
    run(q.up),
    run(q.restarts),
    run(q.deadLetters),
  ]);
  const seconds = p95[0]?.value;
  return {
    steps: steps.reduce((a, s) => a + (Number.isFinite(s.value) ? s.value : 0), 0),
    failedSteps: steps
      .filter((s) => s.metric.outcome === 'failed')
      .reduce((a, s) => a + (Number.isFinite(s.value) ? s.value : 0), 0),
    p95Ms: seconds !== undefined && Number.isFinite(seconds) ? seconds * 1_000 : undefined,
    targets: up.map((s) => ({ target: targetName(s.metric), minUp: s.value })),
    restarts: positiveBy(restarts, (s) => targetName(s.metric)),
    deadLetters: positiveBy(deadLetters, (s) => s.metric.queue ?? '(no queue label)'),
  };
}
