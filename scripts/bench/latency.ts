import { sleep, waitFor } from './bench-env';
import { measuredCapacity } from './full-pipeline';
import { openPipelines, type Pipeline } from './pipelines';
import { combineUsage, limitOf, startResourceSampler, type ResourceUsage } from './resources';
import { median, percentile, type Figure } from './stats';

const sectionAt = (rate: number) => `latency at ${rate} runs/s, enqueue → last step done`;
/** The issue's rate, and one both pipelines sustain on a busy 2-core box (their own latency). */
const rates = [
  { ratePerSecond: 200, durationSeconds: 4, target: true },
  { ratePerSecond: 50, durationSeconds: 3, target: false },
] as const;
const rounds = 3;
const drainTimeoutMs = 30_000;

interface Paced {
  /** Ascending latencies of the runs that finished, ms. */
  latencies: number[];
  offered: number;
  achievedRate: number;
  failedSubmits: number;
  usage: ResourceUsage;
}

/**
 * Open loop: 3-step runs submitted at a fixed rate on a schedule that never waits for earlier
 * runs (a slow run does not delay the next arrival, so queueing shows in the figures instead of
 * being hidden: no coordinated omission). Latency = the run's finish instant (stamped by this
 * process, where both pipelines run) − its *scheduled* submit instant.
 */
async function paced(
  pipeline: Pipeline,
  ratePerSecond: number,
  durationSeconds: number,
): Promise<Paced> {
  await pipeline.start();
  try {
    // Warm-up outside the window: first queries, JIT, connection pools.
    const warm = await Promise.all(Array.from({ length: 20 }, () => pipeline.submit()));
    await waitFor(
      `${pipeline.name}: warm-up runs`,
      async () => ((await pipeline.countSucceeded(warm)) === warm.length ? true : undefined),
      { timeoutMs: drainTimeoutMs },
    );
    const sampler = await startResourceSampler();
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
        pipeline.submit().catch(() => {
          failedSubmits += 1;
          return undefined;
        }),
      );
    }
    const lastArrival = Date.now();
    const ids = await Promise.all(submissions);
    const accepted = ids.filter((id): id is string => id !== undefined);
    await waitFor(
      `${pipeline.name}: paced runs`,
      async () =>
        (await pipeline.countSucceeded(accepted)) === accepted.length ? true : undefined,
      { timeoutMs: drainTimeoutMs, intervalMs: 100 },
    ).catch(() => undefined);
    const usage = await sampler.stop();
    const finished = await pipeline.finishedAt(accepted);
    const latencies: number[] = [];
    ids.forEach((id, i) => {
      const end = id === undefined ? undefined : finished.get(id);
      if (end !== undefined) latencies.push(end - (scheduled[i] ?? Number.NaN));
    });
    latencies.sort((a, b) => a - b);
    return {
      latencies,
      offered: total,
      achievedRate: (total - 1) / Math.max((lastArrival - startedAt) / 1_000, 1e-9),
      failedSubmits,
      usage,
    };
  } finally {
    await pipeline.stop();
  }
}

/** Both pipelines at each paced rate, alternating rounds; p95 ratio per round pair. */
export async function benchLatency(): Promise<Figure[]> {
  const pipelines = await openPipelines('lat');
  try {
    const figures: Figure[] = [];
    for (const r of rates) figures.push(...(await atRate(pipelines, r)));
    return figures;
  } finally {
    await pipelines.close();
  }
}

async function atRate(
  { agentry, reference }: { agentry: Pipeline; reference: Pipeline },
  { ratePerSecond, durationSeconds, target }: (typeof rates)[number],
): Promise<Figure[]> {
  const section = sectionAt(ratePerSecond);
  const results: Record<Pipeline['name'], Paced[]> = { agentry: [], reference: [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [reference, agentry] : [agentry, reference];
    for (const p of order) {
      const r = await paced(p, ratePerSecond, durationSeconds);
      results[p.name].push(r);
      console.log(
        `  ${ratePerSecond}/s round ${round + 1} ${p.name.padEnd(9)} p50 ${percentile(r.latencies, 50).toFixed(0)} ms, p95 ${percentile(r.latencies, 95).toFixed(0)} ms, ${r.latencies.length}/${r.offered} finished, ${r.achievedRate.toFixed(1)}/s offered; machine ${r.usage.cores.machine.toFixed(2)} cores busy`,
      );
    }
  }
  const p = (name: Pipeline['name'], q: number) =>
    median(results[name].map((r) => percentile(r.latencies, q)));
  const ratios = results.agentry.map(
    (a, i) => percentile(a.latencies, 95) / percentile(results.reference[i]?.latencies ?? [], 95),
  );
  const unfinished = (name: Pipeline['name']) =>
    results[name].reduce((n, r) => n + (r.offered - r.latencies.length), 0);
  const how = (name: Pipeline['name']) => {
    const rs = results[name];
    const finished = rs.reduce((n, r) => n + r.latencies.length, 0);
    const offered = rs.reduce((n, r) => n + r.offered, 0);
    const capacity = measuredCapacity[name];
    return `median of ${rounds} rounds of ${ratePerSecond * durationSeconds} runs at ${ratePerSecond}/s open loop (${median(rs.map((r) => r.achievedRate)).toFixed(0)}/s achieved); ${finished}/${offered} finished${capacity === undefined ? '' : `; ${ratePerSecond}/s is ${((ratePerSecond / capacity) * 100).toFixed(0)} % of the runs/s measured above`}`;
  };
  const limit = (name: Pipeline['name']) => {
    const capacity = measuredCapacity[name];
    const saturated = capacity === undefined || ratePerSecond >= 0.9 * capacity;
    const hops = name === 'agentry' ? 4 : 3;
    return `${saturated ? 'queueing: the offered rate is at or above the runs/s it sustains on this machine now' : `not queueing (below its capacity): the path itself, ${hops} jobs in a row per run, each a queue hop plus its round trips`}; ${limitOf(
      combineUsage(results[name].map((r) => r.usage)),
      { count: results[name].reduce((n, r) => n + r.latencies.length, 0), unit: 'run' },
    )}`;
  };
  return [
    {
      section,
      name: 'agentry p50',
      value: p('agentry', 50),
      unit: 'ms',
      note: how('agentry'),
      limit: limit('agentry'),
    },
    { section, name: 'agentry p95', value: p('agentry', 95), unit: 'ms' },
    {
      section,
      name: 'reference p50',
      value: p('reference', 50),
      unit: 'ms',
      note: how('reference'),
      limit: limit('reference'),
    },
    { section, name: 'reference p95', value: p('reference', 95), unit: 'ms' },
    {
      section,
      name: 'agentry p95 / reference p95',
      value: median(ratios),
      unit: '×',
      ...(target ? { target: { max: 2 } } : {}),
      note: `median of per-round ratios ${ratios.map((x) => x.toFixed(2)).join(', ')}`,
    },
    {
      section,
      name: 'runs not finished 30 s after the last arrival',
      value: unfinished('agentry') + unfinished('reference'),
      unit: 'runs',
      target: { max: 0 },
      note: `agentry ${unfinished('agentry')}, reference ${unfinished('reference')}`,
    },
  ];
}
