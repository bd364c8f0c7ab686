import type { Database } from '@agentry/db';
import { percentile } from '../bench/stats';

/** Runs that ended since the previous window, and their latency. */
export interface LatencyWindow {
  /** Runs that reached a terminal state in this window. */
  finished: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

/** A window's figures and the latencies behind them (for percentiles over a whole phase). */
export interface LatencyReading {
  window: LatencyWindow;
  latenciesMs: number[];
}

const terminal = ['succeeded', 'failed', 'rejected', 'cancelled'] as const;
/** A run's `finished_at` may be stamped a little before the commit that makes it visible. */
const lookBackMs = 30_000;

export interface LatencyWindows {
  next(): Promise<LatencyReading>;
  /** Runs counted so far. */
  finished(): number;
}

/**
 * Latency of each run = its `finished_at` − the instant its intent was *scheduled* to arrive
 * (open loop: time spent waiting to be submitted counts). `next()` returns the runs that ended
 * since the previous call; each run is counted once.
 */
export function latencyWindows(
  db: Database['db'],
  scheduledAt: ReadonlyMap<string, number>,
): LatencyWindows {
  const counted = new Set<string>();
  let watermark = 0;
  return {
    finished: () => counted.size,
    async next() {
      const rows = await db
        .selectFrom('runs')
        .select(['id', 'finishedAt'])
        .where('state', 'in', terminal)
        .where('finishedAt', '>', new Date(watermark - lookBackMs))
        .execute();
      const latencies: number[] = [];
      for (const { id, finishedAt } of rows) {
        if (finishedAt === null || counted.has(id)) continue;
        const due = scheduledAt.get(id);
        // Not known yet: the API's answer is still on its way; counted next window.
        if (due === undefined) continue;
        counted.add(id);
        latencies.push(finishedAt.getTime() - due);
        watermark = Math.max(watermark, finishedAt.getTime());
      }
      latencies.sort((a, b) => a - b);
      return {
        window: {
          finished: latencies.length,
          p50Ms: percentile(latencies, 50),
          p95Ms: percentile(latencies, 95),
          maxMs: latencies.at(-1) ?? Number.NaN,
        },
        latenciesMs: latencies,
      };
    },
  };
}
