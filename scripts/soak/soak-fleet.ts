import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChaosFleet } from '../../tests/chaos/support/chaos-fleet';
import type { FleetProcess } from '../../tests/support/fleet-process';
import { drainLogsToFiles, type LogTally } from './log-files';

/** A process of the soak and the name its figures are reported under. */
export interface SoakProcess {
  label: string;
  process: FleetProcess;
  /** Where it serves its Prometheus metrics (the API on its own port, workers on the health port). */
  metricsUrl: string;
}

export interface SoakFleet {
  chaos: ChaosFleet;
  processes: SoakProcess[];
  logDir: string;
  logs: LogTally;
  /** Stop every process, delete the fleet's keys and drop its schema. Safe twice; never throws. */
  close(): Promise<string[]>;
}

/** How long the sink holds each step's answer: a remote call of a few tens of ms. */
const sinkDelayMs = 20;

/**
 * The chaos harness's fleet, set up as production runs it rather than for fault injection: the
 * API, a planner and two executors as separate real processes, logs at `info`, metrics served
 * (each process's health port), the product's executor lock and concurrency, and the reconciler
 * on. Its Redis prefix and Postgres schema are its own.
 */
export async function openSoakFleet(options: {
  logDir?: string;
  /** Let SIGUSR2 write a heap snapshot of a process into `logDir`. */
  heapSnapshots?: boolean;
}): Promise<SoakFleet> {
  const logDir = options.logDir ?? (await mkdtemp(join(tmpdir(), 'agentry-soak-')));
  const nodeOptions = [
    process.env.NODE_OPTIONS ?? '',
    ...(options.heapSnapshots === true
      ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${logDir}`]
      : []),
  ].join(' ');
  const chaos = await ChaosFleet.create({
    delayMs: sinkDelayMs,
    lockMs: 30_000,
    env: {
      AGENTRY_LOG_LEVEL: 'info',
      AGENTRY_EXECUTOR_CONCURRENCY: '16',
      AGENTRY_RECONCILE_INTERVAL_MS: '5000',
      AGENTRY_RECONCILE_AFTER_MS: '30000',
      AGENTRY_QUEUE_DEPTH_INTERVAL_MS: '5000',
      NODE_OPTIONS: nodeOptions.trim(),
    },
  });
  let drain: ReturnType<typeof drainLogsToFiles> | undefined;
  let closing: Promise<string[]> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const problems: string[] = [];
      const step = async (what: string, fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (e) {
          problems.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
        }
      };
      await step('stop processes', () => Promise.all(chaos.processes.map((p) => p.stop(10_000))));
      drain?.stop();
      const { database } = chaos.fleet;
      // TestFleet leaves its schema to the test run's teardown; a soak has none, so drop it here.
      await step(`drop schema ${database.schema}`, () =>
        database.db.schema.dropSchema(database.schema).ifExists().cascade().execute(),
      );
      await step(`delete keys under ${chaos.fleet.prefix}`, () => chaos.close());
      return problems;
    })());
  try {
    const [api, planner, ...executors] = await Promise.all([
      chaos.startApi(),
      chaos.startPlanner(),
      chaos.startExecutor(),
      chaos.startExecutor(),
    ]);
    const healthUrl = async (p: FleetProcess) => {
      const { port } = await p.waitForLog((l) => l.msg === 'health server listening');
      return `http://127.0.0.1:${String(port)}/metrics`;
    };
    const processes: SoakProcess[] = [
      { label: 'api', process: api, metricsUrl: `${chaos.fleet.apiUrl}/metrics` },
      { label: 'planner', process: planner, metricsUrl: await healthUrl(planner) },
      ...(await Promise.all(
        executors.map(async (process, i) => ({
          label: `executor-${i + 1}`,
          process,
          metricsUrl: await healthUrl(process),
        })),
      )),
    ];
    drain = drainLogsToFiles(logDir, processes, { ...chaos.secrets });
    return { chaos, processes, logDir, logs: drain.tally, close };
  } catch (e) {
    await close();
    throw e;
  }
}
