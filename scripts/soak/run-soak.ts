import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { queueNames } from '@agentry/schema';
import { checkInvariants, type InvariantReport } from '../../tests/chaos/support/invariants';
import { describeMachine, type Machine } from '../bench/machine';
import { driveLoad, type LoadPhase } from './drive-load';
import { judgeSoak, type Criterion, type RetentionCaps } from './judge-soak';
import type { LogTally } from './log-files';
import { readRetentionCaps } from './retention-caps';
import type { RssTrace } from './rss-trace';
import { openSoakFleet } from './soak-fleet';
import type { SoakOptions } from './soak-options';
import type { Sample } from './take-sample';

/** Everything a soak measured and decided; what `--json` writes. */
export interface SoakResult {
  options: SoakOptions;
  machine: Machine;
  startedAt: string;
  /** 1-minute load average at the last sample of the load phase. */
  loadAtEnd: number;
  processes: Array<{ label: string; pid: number | undefined }>;
  /** The fleet's own Redis key prefix and Postgres schema (both removed at the end). */
  fleet: { prefix: string; schema: string };
  caps: RetentionCaps;
  samples: Sample[];
  /** VmRSS of every fleet process, every second (what the RSS criterion is judged on). */
  rss: RssTrace;
  arrivals: {
    submitted: number;
    accepted: number;
    refused: string[];
    late: number;
    /** Arrivals per second over the arrival period. */
    achievedRate: number;
  };
  steadyLatency: LoadPhase['steadyLatency'];
  /** The chaos invariants after the settle; absent when the soak was interrupted. */
  invariants: InvariantReport | undefined;
  logs: LogTally & { dir: string };
  criteria: Criterion[];
  passed: boolean;
  /** Problems removing the fleet's keys and schema (empty: all gone). */
  cleanup: string[];
  interrupted: boolean;
}

/**
 * Run a soak: open the fleet, drive the steady open-loop load for the duration while sampling,
 * let every run end, check the chaos invariants, judge the criteria (`judgeSoak`), and remove
 * the fleet's processes, keys and schema whatever happened. `interrupt` (SIGINT) cuts the load
 * short and skips the checks (the result then FAILs as interrupted).
 */
export async function runSoak(
  options: SoakOptions,
  interrupt: AbortSignal,
  log: (line: string) => void = console.log,
): Promise<SoakResult> {
  const machine = await describeMachine();
  const startedAt = new Date();
  const fleet = await openSoakFleet({
    logDir: options.logDir,
    heapSnapshots: options.heapSnapshots,
  });
  const { chaos } = fleet;
  const redis = new Redis(chaos.fleet.redisUrl, { maxRetriesPerRequest: 3 });
  const names = [queueNames.plan, queueNames.step, queueNames.dlq];
  const queues = names.map(
    (name) => new Queue(name, { connection: redis, prefix: chaos.fleet.prefix }),
  );
  let result: SoakResult | undefined;
  try {
    log(
      `soak: ${fleet.processes.map((p) => `${p.label} (pid ${String(p.process.pid)})`).join(', ')}; logs in ${fleet.logDir}`,
    );
    const load = await driveLoad({ fleet, redis, queues }, options, interrupt, log);
    const { arrivals, samples } = load;
    let invariants: InvariantReport | undefined;
    if (!interrupt.aborted) {
      log(`soak: arrivals stopped (${arrivals.submitted} sent); waiting for every run to end`);
      invariants = await checkInvariants(chaos, arrivals.accepted, { settleWithinMs: 300_000 });
      samples.push(await load.sampleAgain('settled'));
    }
    const caps = await readRetentionCaps(redis, chaos.fleet.prefix, names);
    const criteria = judgeSoak({
      options,
      samples,
      rss: load.rss,
      arrivals,
      invariants,
      logs: fleet.logs,
      caps,
      exited: fleet.processes.filter((p) => !p.process.running).map((p) => p.label),
      interrupted: interrupt.aborted,
    });
    result = {
      options,
      machine,
      startedAt: startedAt.toISOString(),
      loadAtEnd: samples.filter((s) => s.phase !== 'settled').at(-1)?.load1 ?? Number.NaN,
      processes: fleet.processes.map((p) => ({ label: p.label, pid: p.process.pid })),
      fleet: { prefix: chaos.fleet.prefix, schema: chaos.fleet.database.schema },
      caps,
      samples,
      rss: load.rss,
      arrivals: {
        submitted: arrivals.submitted,
        accepted: arrivals.accepted.length,
        refused: arrivals.refused.slice(0, 20),
        late: arrivals.late,
        achievedRate: arrivals.submitted / (load.arrivalsEndedAtMs / 1_000),
      },
      steadyLatency: load.steadyLatency,
      invariants,
      logs: { ...fleet.logs, dir: fleet.logDir },
      criteria,
      passed: criteria.every((c) => c.pass),
      cleanup: [],
      interrupted: interrupt.aborted,
    };
  } finally {
    await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
    redis.disconnect();
    const problems = await fleet.close();
    if (result) {
      result.cleanup = problems;
      // The last lines (the shutdown's) were drained by close().
      result.logs = { ...structuredClone(fleet.logs), dir: fleet.logDir };
    } else for (const p of problems) log(`soak: cleanup: ${p}`);
  }
  return result;
}
