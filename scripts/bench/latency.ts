import { openAgentryFleet } from './agentry-fleet';
import { sleep, waitFor } from './bench-env';
import { percentile, type Figure } from './stats';

const section = 'latency, submit → run succeeded';
const ratePerSecond = 20;
const durationSeconds = 15;
const drainTimeoutMs = 30_000;

/**
 * Open loop: `echo 3 steps` submitted at a fixed 20 runs/s for 15 s, on a schedule that never
 * waits for earlier runs (a slow run does not delay the next arrival, so queueing shows up in the
 * figures instead of being hidden). Latency = the run's `finished_at` − its *scheduled* submit
 * instant, both from this process's clock (the in-process executor stamps `finished_at`).
 */
export async function benchLatency(): Promise<Figure[]> {
  const fleet = await openAgentryFleet('lat');
  try {
    const workers = await fleet.startWorkers({ planner: true, executor: true });
    try {
      // Warm-up outside the window: first queries, JIT, connection pools.
      const warm = await Promise.all(
        Array.from({ length: 20 }, () => fleet.submit('echo 3 steps')),
      );
      await waitFor(
        'warm-up runs',
        async () => ((await fleet.countRuns(warm, 'succeeded')) === warm.length ? true : undefined),
        { timeoutMs: drainTimeoutMs },
      );

      const total = ratePerSecond * durationSeconds;
      const intervalMs = 1_000 / ratePerSecond;
      const scheduled: number[] = [];
      const submissions: Array<Promise<string | undefined>> = [];
      let failedSubmits = 0;
      const startedAt = Date.now();
      for (let i = 0; i < total; i++) {
        const at = startedAt + i * intervalMs;
        const wait = at - Date.now();
        if (wait > 0) await sleep(wait);
        scheduled.push(at);
        submissions.push(
          fleet.submit('echo 3 steps').catch(() => {
            failedSubmits += 1;
            return undefined;
          }),
        );
      }
      const ids = await Promise.all(submissions);
      const accepted = ids.filter((id): id is string => id !== undefined);
      await waitFor(
        'open-loop runs',
        async () =>
          (await fleet.countRuns(accepted, 'succeeded')) === accepted.length ? true : undefined,
        { timeoutMs: drainTimeoutMs, intervalMs: 100 },
      ).catch(() => undefined);
      const finished = await fleet.finishedAt(accepted);
      const latencies: number[] = [];
      ids.forEach((id, i) => {
        const end = id === undefined ? undefined : finished.get(id);
        if (end !== undefined) latencies.push(end - (scheduled[i] ?? Number.NaN));
      });
      latencies.sort((a, b) => a - b);
      const arrivalSpanS = ((scheduled.at(-1) ?? startedAt) - startedAt) / 1_000;
      const how = `${latencies.length}/${total} runs at ${ratePerSecond}/s open loop (${((total - 1) / Math.max(arrivalSpanS, 1e-9)).toFixed(1)}/s achieved)${failedSubmits > 0 ? `, ${failedSubmits} submits failed` : ''}`;
      return [
        { section, name: 'p50', value: percentile(latencies, 50), unit: 'ms', note: how },
        { section, name: 'p95', value: percentile(latencies, 95), unit: 'ms' },
        { section, name: 'p99', value: percentile(latencies, 99), unit: 'ms' },
        { section, name: 'max', value: latencies.at(-1) ?? Number.NaN, unit: 'ms' },
        {
          section,
          name: 'runs not finished in time',
          value: total - latencies.length,
          unit: 'runs',
          target: { max: 0 },
        },
      ];
    } finally {
      await workers.close();
    }
  } finally {
    await fleet.close();
  }
}
