import { readFileSync } from 'node:fs';
import { FleetProcess } from '../../tests/support/fleet-process';
import type { AgentryFleet } from './agentry-fleet';

/**
 * A real executor process on `fleet` (`node --import tsx apps/executor/src/main.ts`, as the e2e
 * tests start it), at the production log level, resolved once it logs "executor started".
 */
export async function startExecutorProcess(
  fleet: AgentryFleet,
  env: Record<string, string> = {},
): Promise<FleetProcess> {
  const executor = new FleetProcess('executor', {
    ...fleet.env,
    AGENTRY_LOG_LEVEL: 'info',
    AGENTRY_EXECUTOR_CONCURRENCY: '16',
    ...env,
  });
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
