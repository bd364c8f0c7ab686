import { openAgentryFleet, type AgentryFleet } from './agentry-fleet';
import { waitFor } from './bench-env';
import { startExecutorProcess } from './executor-process';
import type { Figure } from './stats';
import type { LogLine } from '../../tests/support/fleet-process';

const section = 'drain: SIGTERM → exit (real executor process)';
const inFlight = 50;
const stepMs = 1_000;
const deadlineMs = 2_000;
/** Our target: the issue names none. Draining is about the jobs; what comes after should be short. */
const maxOverheadMs = 500;

async function stepsIn(
  fleet: AgentryFleet,
  runIds: readonly string[],
  state: 'running' | 'queued',
) {
  return fleet.services.database.db
    .selectFrom('steps')
    .select(['runId', 'startedAt'])
    .where('runId', 'in', runIds)
    .where('state', '=', state)
    .execute();
}

const timeOf = (line: LogLine | undefined): number =>
  typeof line?.time === 'string' ? Date.parse(line.time) : Number.NaN;

/**
 * 1. 50 `wait 1000 ms` steps in flight (concurrency 50), SIGTERM: the drain lets them finish, the
 *    process exits. The figure is the time from SIGTERM to exit minus what the longest in-flight
 *    job still had to run at the signal; the executor's own log lines (their timestamps) split it.
 * 2. AGENTRY_SHUTDOWN_DEADLINE_MS=2000 and a `wait 10 s` step: it is cancelled and handed back,
 *    and the process exits within the deadline.
 * The planner runs in this process; time is from `kill(SIGTERM)` to the child's `exit` event.
 */
export async function benchShutdown(): Promise<Figure[]> {
  const fleet = await openAgentryFleet('term');
  try {
    const planner = await fleet.startWorkers({ planner: true });
    try {
      // Plan the runs first, so that all 50 steps are queued when the executor starts.
      const ids = await Promise.all(
        Array.from({ length: inFlight }, () => fleet.submit(`wait ${stepMs} ms`)),
      );
      await waitFor(
        `${inFlight} steps queued`,
        async () => ((await stepsIn(fleet, ids, 'queued')).length === inFlight ? true : undefined),
        { timeoutMs: 20_000 },
      );
      const executor = await startExecutorProcess(fleet, {
        AGENTRY_SHUTDOWN_DEADLINE_MS: '10000',
        AGENTRY_EXECUTOR_CONCURRENCY: String(inFlight),
      });
      let drainMs = Number.NaN;
      let remainingMs = Number.NaN;
      let signalledAt = Number.NaN;
      let exitedAt = Number.NaN;
      let exit: { code: number | null; signal: string | null } = { code: null, signal: null };
      try {
        const running = await waitFor(
          `${inFlight} steps running`,
          async () => {
            const rows = await stepsIn(fleet, ids, 'running');
            return rows.length === inFlight ? rows : undefined;
          },
          { timeoutMs: 20_000, intervalMs: 10 },
        );
        signalledAt = Date.now();
        executor.signal('SIGTERM');
        exit = await executor.exited;
        exitedAt = Date.now();
        drainMs = exitedAt - signalledAt;
        // The longest in-flight job still had this long to run when the signal was sent.
        const latestStart = Math.max(...running.map((r) => r.startedAt?.getTime() ?? Number.NaN));
        remainingMs = Math.max(0, latestStart + stepMs - signalledAt);
      } finally {
        await executor.stop(5_000);
      }
      const finishedShort = await fleet.countRuns(ids, 'succeeded');
      const lastDone = Math.max(
        ...executor.lines.filter((l) => l.msg === 'run succeeded').map(timeOf),
      );
      const drained = timeOf(executor.lines.find((l) => l.msg === 'worker drained'));
      const since = (t: number) => `${Math.round(t - signalledAt)} ms`;

      // 2. A step longer than the deadline.
      const bounded = await startExecutorProcess(fleet, {
        AGENTRY_SHUTDOWN_DEADLINE_MS: String(deadlineMs),
      });
      let boundedMs = Number.NaN;
      let boundedExit: { code: number | null; signal: string | null } = {
        code: null,
        signal: null,
      };
      let handedBack = 0;
      let boundedAt = Number.NaN;
      try {
        const longRun = await fleet.submit('wait 10 s');
        await waitFor(
          'the 10 s step running',
          async () =>
            (await stepsIn(fleet, [longRun], 'running')).length === 1 ? true : undefined,
          { timeoutMs: 10_000, intervalMs: 10 },
        );
        boundedAt = Date.now();
        bounded.signal('SIGTERM');
        boundedExit = await bounded.exited;
        boundedMs = Date.now() - boundedAt;
        handedBack = (await stepsIn(fleet, [longRun], 'queued')).length;
      } finally {
        await bounded.stop(5_000);
      }
      const boundedDrained = timeOf(bounded.lines.find((l) => l.msg === 'worker drained'));

      return [
        {
          section,
          name: `${inFlight} × ${stepMs} ms jobs in flight: exit, ms after the longest job's end`,
          value: drainMs - remainingMs,
          unit: 'ms',
          target: { max: maxOverheadMs },
          note: `SIGTERM → exit ${drainMs} ms, of which the longest job still needed ${remainingMs} ms; exit code ${exit.code ?? exit.signal}`,
          limit: `after SIGTERM: last step recorded done (its run succeeded) at ${since(lastDone)}, worker drained at ${since(drained)}, process exited at ${since(exitedAt)}: the jobs themselves, then closing connections (Redis, Postgres pool, cancel listener) and exiting`,
        },
        {
          section,
          name: 'in-flight jobs that finished (not cancelled)',
          value: finishedShort,
          unit: 'jobs',
          target: { min: inFlight },
        },
        {
          section,
          name: `10 s job, deadline ${deadlineMs} ms`,
          value: boundedMs,
          unit: 'ms',
          target: { max: deadlineMs },
          note: `exit code ${boundedExit.code ?? boundedExit.signal}; step handed back to queued: ${handedBack === 1 ? 'yes' : 'no'}`,
          limit: `the deadline: the drain waits deadline − grace (1.5 s), cancels the job through its signal and hands it back; worker drained at ${Math.round(boundedDrained - boundedAt)} ms, the rest is closing connections and exiting`,
        },
      ];
    } finally {
      await planner.close();
    }
  } finally {
    await fleet.close();
  }
}
