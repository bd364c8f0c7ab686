import { openAgentryFleet, type AgentryFleet } from './agentry-fleet';
import { waitFor } from './bench-env';
import { startExecutorProcess } from './executor-process';
import type { Figure } from './stats';

const section = 'SIGTERM → exit (real executor process)';
const inFlight = 16;
const shortStepMs = 300;
const deadlineMs = 2_000;

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

/**
 * 1. 16 `wait 300 ms` steps in flight (concurrency 16), SIGTERM: the drain lets them finish and
 *    the process exits. 2. AGENTRY_SHUTDOWN_DEADLINE_MS=2000 and a `wait 10 s` step in flight:
 *    the step is cancelled and handed back, and the process exits within the deadline.
 * The planner runs in this process; time is from `kill(SIGTERM)` to the child's `exit` event.
 */
export async function benchShutdown(): Promise<Figure[]> {
  const fleet = await openAgentryFleet('term');
  try {
    const planner = await fleet.startWorkers({ planner: true });
    try {
      // 1. In-flight work shorter than the deadline: plan 16 runs first, so that all 16 steps are
      // queued when the executor starts and run at once.
      const ids = await Promise.all(
        Array.from({ length: inFlight }, () => fleet.submit(`wait ${shortStepMs} ms`)),
      );
      await waitFor(
        `${inFlight} steps queued`,
        async () => ((await stepsIn(fleet, ids, 'queued')).length === inFlight ? true : undefined),
        { timeoutMs: 10_000 },
      );
      const executor = await startExecutorProcess(fleet, { AGENTRY_SHUTDOWN_DEADLINE_MS: '10000' });
      let drainMs = Number.NaN;
      let remainingMs = Number.NaN;
      let exit: { code: number | null; signal: string | null } = { code: null, signal: null };
      try {
        const running = await waitFor(
          `${inFlight} steps running`,
          async () => {
            const rows = await stepsIn(fleet, ids, 'running');
            return rows.length === inFlight ? rows : undefined;
          },
          { timeoutMs: 10_000, intervalMs: 10 },
        );
        const signalledAt = Date.now();
        executor.signal('SIGTERM');
        exit = await executor.exited;
        drainMs = Date.now() - signalledAt;
        // The last in-flight step needed this much more time when the signal was sent.
        const latestStart = Math.max(...running.map((r) => r.startedAt?.getTime() ?? Number.NaN));
        remainingMs = Math.max(0, latestStart + shortStepMs - signalledAt);
      } finally {
        await executor.stop(5_000);
      }
      const finishedShort = await fleet.countRuns(ids, 'succeeded');

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
      try {
        const longRun = await fleet.submit('wait 10 s');
        await waitFor(
          'the 10 s step running',
          async () =>
            (await stepsIn(fleet, [longRun], 'running')).length === 1 ? true : undefined,
          { timeoutMs: 10_000, intervalMs: 10 },
        );
        const signalledAt = Date.now();
        bounded.signal('SIGTERM');
        boundedExit = await bounded.exited;
        boundedMs = Date.now() - signalledAt;
        handedBack = (await stepsIn(fleet, [longRun], 'queued')).length;
      } finally {
        await bounded.stop(5_000);
      }

      return [
        {
          section,
          name: `${inFlight} × ${shortStepMs} ms steps in flight`,
          value: drainMs,
          unit: 'ms',
          target: { max: 1_000 },
          note: `exit code ${exit.code ?? exit.signal}; last step still needed ${remainingMs} ms at SIGTERM`,
        },
        {
          section,
          name: 'in-flight steps that finished (not cancelled)',
          value: finishedShort,
          unit: 'steps',
          target: { min: inFlight },
        },
        {
          section,
          name: `10 s step, deadline ${deadlineMs} ms`,
          value: boundedMs,
          unit: 'ms',
          target: { max: deadlineMs },
          note: `exit code ${boundedExit.code ?? boundedExit.signal}; step handed back to queued: ${handedBack === 1 ? 'yes' : 'no'}`,
        },
      ];
    } finally {
      await planner.close();
    }
  } finally {
    await fleet.close();
  }
}
