import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { FleetProcess } from '../../tests/support/fleet-process';
import type { AgentryFleet } from './agentry-fleet';

/**
 * A real executor process on `fleet` at the production log level, resolved once it logs
 * "executor started". `from: 'bundle'` runs the built `apps/executor/dist/main.js`, as a
 * production image does (see {@link buildExecutorBundle}); `'source'` runs it through tsx.
 */
export async function startExecutorProcess(
  fleet: AgentryFleet,
  env: Record<string, string> = {},
  from: 'source' | 'bundle' = 'source',
): Promise<FleetProcess> {
  const executor = new FleetProcess(
    'executor',
    {
      ...fleet.env,
      AGENTRY_LOG_LEVEL: 'info',
      AGENTRY_EXECUTOR_CONCURRENCY: '16',
      ...env,
    },
    from,
  );
  try {
    await executor.waitForLog((l) => l.msg === 'executor started', 30_000);
  } catch (e) {
    await executor.stop(2_000);
    throw e;
  }
  return executor;
}

/** VmRSS and VmHWM (peak RSS) of a live process, in MB, from /proc/<pid>/status. */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

let built = false;

/**
 * Build `apps/executor/dist/main.js` (tsup, a few seconds) so the bench measures what ships;
 * once per bench run.
 */
export function buildExecutorBundle(): void {
  if (built) return;
  execFileSync('pnpm', ['--filter', '@agentry/executor', 'run', 'build'], { stdio: 'ignore' });
  built = true;
}
