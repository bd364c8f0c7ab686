import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { openAgentryFleet } from './agentry-fleet';
import { mapLimit, sleep } from './bench-env';
import { memoryOf, startExecutorProcess } from './executor-process';
import { median, type Figure } from './stats';

const section = 'executor memory (real process, RSS)';
const burstRuns = 500;
const burstTimeoutMs = 60_000;

/** RSS of `node --import tsx` running a file that only idles: the loader's share of the figures. */
async function tsxBaselineMb(): Promise<number> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'idle-process.ts')],
    {
      stdio: 'ignore',
    },
  );
  try {
    await sleep(2_000);
    if (child.pid === undefined || child.exitCode !== null) return Number.NaN;
    return memoryOf(child.pid).rssMb;
  } finally {
    child.kill('SIGKILL');
  }
}

/**
 * Idle: a real executor process 2 s after "executor started", VmRSS sampled 10 times over 1 s
 * (median). Loaded: 500 `echo 3 steps` runs submitted at once (16 in flight; the planner runs in
 * this process), VmRSS sampled every 50 ms until they all succeeded (max).
 */
export async function benchMemory(): Promise<Figure[]> {
  const fleet = await openAgentryFleet('mem');
  try {
    const planner = await fleet.startWorkers({ planner: true });
    const executor = await startExecutorProcess(fleet);
    try {
      const pid = executor.pid;
      if (pid === undefined) throw new Error('executor has no pid');
      await sleep(2_000);
      const idle: number[] = [];
      for (let i = 0; i < 10; i++) {
        idle.push(memoryOf(pid).rssMb);
        await sleep(100);
      }

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
      const tsxMb = await tsxBaselineMb();
      return [
        {
          section,
          name: 'idle, after start',
          value: median(idle),
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
          name: 'for scale: `node --import tsx` idling',
          value: tsxMb,
          unit: 'MB',
          note: 'the same loader running an empty file; a bundled dist/main.js does not pay for it',
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
