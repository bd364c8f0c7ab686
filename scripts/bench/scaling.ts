import { openAgentryFleet, type AgentryFleet } from './agentry-fleet';
import { mapLimit, waitFor } from './bench-env';
import { buildExecutorBundle, startExecutorProcess } from './executor-process';
import { stepsPerRun } from './pipelines';
import { combineUsage, limitOf, startResourceSampler, type ResourceUsage } from './resources';
import { median, type Figure } from './stats';
import type { FleetProcess } from '../../tests/support/fleet-process';

const section = 'scaling: executor processes';
const processCounts = [1, 2, 4] as const;
const runsPerCount = 500;
/** 1, 2, 4, then 4, 2, 1: each count measured twice, once early and once late in the section. */
const order = [...processCounts, ...[...processCounts].reverse()];
const timeoutMs = 60_000;

interface Scaled {
  processes: number;
  stepsPerS: number;
  usage: ResourceUsage;
  /** CPU of the busiest executor process, in cores. */
  busiest: number;
}

/**
 * Steps/s of 1, 2 and 4 real executor processes (the built bundle, concurrency 16 each, logs at
 * info) draining the same backlog: `runsPerCount` runs of `echo 3 steps` are planned (by a
 * planner in this process) while the step queue is paused, then the queue is resumed and timed
 * until every run succeeded. Only the executors work in the window (the planner is idle), so
 * the figure is the executors' own, with Redis and Postgres.
 */
async function drainWith(fleet: AgentryFleet, processes: number): Promise<Scaled> {
  const stepQueue = fleet.services.producer.queue('agentry.step');
  await stepQueue.pause();
  const executors: FleetProcess[] = [];
  try {
    const planner = await fleet.startWorkers({ planner: true });
    let ids: string[];
    try {
      ids = await mapLimit(
        Array.from({ length: runsPerCount }, (_, i) => i),
        16,
        () => fleet.submit('echo 3 steps'),
      );
      await waitFor(
        `${runsPerCount} runs planned`,
        async () => ((await fleet.countRuns(ids, 'running')) === runsPerCount ? true : undefined),
        { timeoutMs, intervalMs: 100 },
      );
    } finally {
      await planner.close();
    }
    executors.push(
      ...(await Promise.all(
        Array.from({ length: processes }, () => startExecutorProcess(fleet, {}, 'bundle')),
      )),
    );
    const pids = executors.map((e) => e.pid).filter((p): p is number => p !== undefined);
    const sampler = await startResourceSampler({ childPids: () => pids });
    const perProcess = await startResourceSampler({ childPids: () => pids.slice(0, 1) });
    const startedAt = Date.now();
    await stepQueue.resume();
    await waitFor(
      `${processes} executors: ${runsPerCount} runs succeeded`,
      async () => ((await fleet.countRuns(ids, 'succeeded')) === runsPerCount ? true : undefined),
      { timeoutMs, intervalMs: 50 },
    );
    const usage = await sampler.stop();
    const first = await perProcess.stop();
    const finished = [...(await fleet.finishedAt(ids)).values()];
    return {
      processes,
      stepsPerS: (runsPerCount * stepsPerRun) / ((Math.max(...finished) - startedAt) / 1_000),
      usage,
      busiest: first.cores.children,
    };
  } finally {
    await Promise.all(executors.map((e) => e.stop(10_000)));
    await stepQueue.resume().catch(() => undefined);
  }
}

export async function benchScaling(): Promise<Figure[]> {
  buildExecutorBundle();
  const fleet = await openAgentryFleet('scale');
  try {
    const byCount = new Map<number, Scaled[]>();
    for (const n of order) {
      const r = await drainWith(fleet, n);
      byCount.set(n, [...(byCount.get(n) ?? []), r]);
      console.log(
        `  ${n} executor${n > 1 ? 's' : ''}: ${r.stepsPerS.toFixed(0)} steps/s; executors ${r.usage.cores.children.toFixed(2)} cores (one of them ${r.busiest.toFixed(2)}), Postgres ${r.usage.cores.postgres.toFixed(2)}, Redis ${r.usage.cores.redis.toFixed(2)}, machine ${r.usage.cores.machine.toFixed(2)}`,
      );
    }
    const rate = (n: number) => median((byCount.get(n) ?? []).map((r) => r.stepsPerS));
    const one = rate(1);
    return processCounts.map((n) => {
      const rs = byCount.get(n) ?? [];
      const usage = combineUsage(rs.map((r) => r.usage));
      const busiest = Math.max(...rs.map((r) => r.busiest));
      return {
        section,
        name: `${n} executor process${n > 1 ? 'es' : ''}`,
        value: rate(n),
        unit: 'steps/s',
        note: `median of ${rs.length} drains of ${runsPerCount} runs (${runsPerCount * stepsPerRun} steps) from a paused backlog (${rs.map((r) => r.stepsPerS.toFixed(0)).join(', ')}), concurrency 16 each; ${(rate(n) / one).toFixed(2)}× one process`,
        limit: `${limitOf(usage, { count: runsPerCount * stepsPerRun * rs.length, unit: 'step' }, 'executors')}; the busiest executor process ${busiest.toFixed(2)} core`,
      };
    });
  } finally {
    await fleet.close();
  }
}
