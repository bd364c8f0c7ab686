import { openAgentryFleet } from './agentry-fleet';
import { mapLimit, sleep } from './bench-env';
import { buildExecutorBundle, memoryOf, startExecutorProcess } from './executor-process';
import { median, type Figure } from './stats';

const section = 'executor memory (built process, RSS)';
const burstRuns = 500;
const burstTimeoutMs = 60_000;

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
      const idle = await idleMb(pid);

      const samples: number[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          samples.push(memoryOf(pid).rssMb);
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
        },
        {
          section,
          name: `peak under load (${burstRuns} runs burst)`,
          value: Math.max(...samples),
          unit: 'MB',
          target: { max: 200 },
          note: `${done}/${burstRuns} runs in ${burstS.toFixed(1)} s, ${samples.length} samples; VmHWM (incl. start-up) ${peakMb.toFixed(0)} MB`,
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
