import { openAgentryFleet } from './agentry-fleet';
import { mapLimit, sleep } from './bench-env';
import { buildExecutorBundle, memoryOf, startExecutorProcess } from './executor-process';
import { median, type Figure } from './stats';

const section = 'executor memory (built process, RSS)';
const burstRuns = 500;
const burstTimeoutMs = 60_000;

/** V8 heap used / total and external memory (MB) from a process's `/metrics` (prom-client). */
async function heapOf(
  port: number,
): Promise<{ usedMb: number; totalMb: number; externalMb: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const mb = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1]) / 2 ** 20;
  return {
    usedMb: mb('nodejs_heap_size_used_bytes'),
    totalMb: mb('nodejs_heap_size_total_bytes'),
    externalMb: mb('nodejs_external_memory_bytes'),
  };
}

const describeHeap = (h: { usedMb: number; totalMb: number; externalMb: number }, rss: number) =>
  `V8 heap ${h.usedMb.toFixed(0)} MB used of ${h.totalMb.toFixed(0)} MB, external ${h.externalMb.toFixed(0)} MB; the other ${(rss - h.totalMb - h.externalMb).toFixed(0)} MB are Node itself (code, the runtime, thread stacks)`;

/** Median VmRSS of a process over 1 s (10 samples), 2 s after it started taking work. */
async function idleMb(pid: number): Promise<number> {
  await sleep(2_000);
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    samples.push(memoryOf(pid).rssMb);
    await sleep(100);
  }
  return median(samples);
}

/** Idle RSS of the executor run from source under tsx: what development costs, for scale. */
async function sourceIdleMb(fleet: Awaited<ReturnType<typeof openAgentryFleet>>): Promise<number> {
  const executor = await startExecutorProcess(fleet, {}, 'source');
  try {
    return executor.pid === undefined ? Number.NaN : await idleMb(executor.pid);
  } finally {
    await executor.stop(10_000);
  }
}

/**
 * The built executor (`apps/executor/dist/main.js`, what an image runs). Idle: 2 s after
 * "executor started", VmRSS sampled 10 times over 1 s (median). Loaded: 500 `echo 3 steps` runs submitted at once (16 in flight; the planner runs in
 * this process), VmRSS sampled every 50 ms until they all succeeded (max).
 */
export async function benchMemory(): Promise<Figure[]> {
  const fleet = await openAgentryFleet('mem');
  try {
    buildExecutorBundle();
    const planner = await fleet.startWorkers({ planner: true });
    const executor = await startExecutorProcess(fleet, {}, 'bundle');
    try {
      const pid = executor.pid;
      if (pid === undefined) throw new Error('executor has no pid');
      const port = Number(
        (await executor.waitForLog((l) => l.msg === 'health server listening', 10_000)).port,
      );
      const idle = await idleMb(pid);
      const idleHeap = await heapOf(port);
      let loadedHeap = idleHeap;
      let loadedRss = 0;

      const samples: number[] = [];
      let sampling = true;
      const sampler = (async () => {
        let n = 0;
        while (sampling) {
          const rss = memoryOf(pid).rssMb;
          samples.push(rss);
          // Every 10th sample, the heap too: kept for the sample with the highest RSS so far.
          if (n++ % 10 === 0 && rss >= loadedRss) {
            loadedHeap = await heapOf(port).catch(() => loadedHeap);
            loadedRss = rss;
          }
          await sleep(50);
        }
      })();
      const startedAt = Date.now();
      let done = 0;
      try {
        const ids = await mapLimit(
          Array.from({ length: burstRuns }, (_, i) => i),
          16,
          () => fleet.submit('echo 3 steps'),
        );
        while (Date.now() - startedAt < burstTimeoutMs) {
          done = await fleet.countRuns(ids, 'succeeded');
          if (done === burstRuns) break;
          await sleep(100);
        }
      } finally {
        sampling = false;
        await sampler;
      }
      const burstS = (Date.now() - startedAt) / 1_000;
      const { peakMb } = memoryOf(pid);
      await executor.stop(10_000);
      const fromSourceMb = await sourceIdleMb(fleet);
      return [
        {
          section,
          name: 'idle, after start',
          value: idle,
          unit: 'MB',
          target: { max: 120 },
          note: 'median of 10 samples, 2 s after "executor started"',
          limit: describeHeap(idleHeap, idle),
        },
        {
          section,
          name: `peak under load (${burstRuns} runs burst)`,
          value: Math.max(...samples),
          unit: 'MB',
          target: { max: 200 },
          note: `${done}/${burstRuns} runs in ${burstS.toFixed(1)} s, ${samples.length} samples; VmHWM (incl. start-up) ${peakMb.toFixed(0)} MB`,
          limit: `at ${loadedRss.toFixed(0)} MB: ${describeHeap(loadedHeap, loadedRss)}; the heap grows with the jobs in flight (16) and the buffers of the Redis and Postgres connections`,
        },
        {
          section,
          name: 'for scale: idle, run from source under tsx',
          value: fromSourceMb,
          unit: 'MB',
          note: 'development only: the tsx loader and uncompiled modules',
        },
      ];
    } finally {
      await executor.stop(10_000);
      await planner.close();
    }
  } finally {
    await fleet.close();
  }
}
