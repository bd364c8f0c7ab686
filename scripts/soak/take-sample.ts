import { loadavg } from 'node:os';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Arrivals } from './open-loop-arrivals';
import { heapOf, type HeapFigures } from './heap-metrics';
import type { LatencyWindow, LatencyWindows } from './latency-window';
import { cpuSecondsOf, rssMbOf } from './process-usage';
import { measureRedis, type RedisUsage } from './redis-usage';
import { countRows, type RowCounts } from './row-counts';
import type { SoakFleet } from './soak-fleet';

/** Job states counted per queue: retained finished ones and those still to do. */
export const jobStates = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'completed',
  'failed',
] as const;
export type JobCounts = Record<(typeof jobStates)[number], number>;

/** Everything measured at one instant. */
export interface Sample {
  /** Since the first arrival. */
  atMs: number;
  phase: 'warm-up' | 'steady' | 'settled';
  /** VmRSS of each fleet process by label (NaN once it has exited), and of this driver. */
  rssMb: Record<string, number>;
  driverRssMb: number;
  /** What each process's memory is made of (its /metrics): live heap, committed heap, external. */
  heap: Record<string, HeapFigures>;
  /** CPU seconds each fleet process has used so far (user + system), and this driver. */
  cpuSeconds: Record<string, number>;
  driverCpuSeconds: number;
  redis: RedisUsage;
  jobs: Record<string, JobCounts>;
  rows: RowCounts;
  runs: { submitted: number; accepted: number; refused: number; finished: number };
  latency: LatencyWindow;
  /** 1-minute load average of the machine (shared: other work shows here). */
  load1: number;
  /** How long taking this sample took (a SCAN and MEMORY USAGE of every key, counts, rows). */
  tookMs: number;
}

export interface SampleSources {
  fleet: SoakFleet;
  redis: Redis;
  queues: readonly Queue[];
  arrivals: Arrivals;
  latency: LatencyWindows;
  /** Where the latencies of runs that ended in the steady phase are collected. */
  steadyLatenciesMs: number[];
}

/** Take one sample (about a second's work for a few tens of thousands of keys). */
export async function takeSample(
  sources: SampleSources,
  atMs: number,
  phase: Sample['phase'],
): Promise<Sample> {
  const startedAt = Date.now();
  const { fleet, redis, queues, arrivals } = sources;
  const rssMb = Object.fromEntries(
    fleet.processes.map(({ label, process }) => [
      label,
      process.running ? rssMbOf(process.pid) : Number.NaN,
    ]),
  );
  const cpuSeconds = Object.fromEntries(
    fleet.processes.map(({ label, process }) => [label, cpuSecondsOf(process.pid)]),
  );
  const heap = Object.fromEntries(
    await Promise.all(
      fleet.processes.map(
        async ({ label, metricsUrl }) => [label, await heapOf(metricsUrl)] as const,
      ),
    ),
  );
  const jobs: Record<string, JobCounts> = {};
  for (const queue of queues)
    jobs[queue.name] = (await queue.getJobCounts(...jobStates)) as JobCounts;
  const { window: latency, latenciesMs } = await sources.latency.next();
  if (phase === 'steady') for (const ms of latenciesMs) sources.steadyLatenciesMs.push(ms);
  const sample: Omit<Sample, 'tookMs'> = {
    atMs,
    phase,
    rssMb,
    driverRssMb: process.memoryUsage.rss() / 2 ** 20,
    heap,
    cpuSeconds,
    driverCpuSeconds: cpuSecondsOf(process.pid),
    redis: await measureRedis(
      redis,
      fleet.chaos.fleet.prefix,
      queues.map((q) => q.name),
    ),
    jobs,
    rows: await countRows(fleet.chaos.fleet.database.db),
    runs: {
      submitted: arrivals.submitted,
      accepted: arrivals.accepted.length,
      refused: arrivals.refused.length,
      finished: sources.latency.finished(),
    },
    latency,
    load1: loadavg()[0] ?? Number.NaN,
  };
  return { ...sample, tookMs: Date.now() - startedAt };
}
