import type { QueueLogger } from './queue-logger';

export interface ShutdownTarget {
  close(opts: { deadlineMs: number }): Promise<void>;
}

export interface InstallShutdownOptions {
  /** Budget handed to `target.close`; keep it under the pod's termination grace period. */
  deadlineMs: number;
  log: QueueLogger;
  /** @default ['SIGTERM', 'SIGINT'] */
  signals?: NodeJS.Signals[];
  /** @default process.exit */
  exit?: (code: number) => void;
  /** Extra time after the deadline before giving up on `close` and exiting 1. @default 1000 */
  marginMs?: number;
}

/**
 * Wire process signals to a graceful close. First signal: `target.close({ deadlineMs })`, then
 * exit 0; exit 1 if close threw or has not finished by `deadlineMs + marginMs`. A second signal
 * while closing: exit 1 at once. Returns a function that removes the listeners (for tests).
 */
export function installShutdown(
  target: ShutdownTarget,
  options: InstallShutdownOptions,
): () => void {
  const { deadlineMs, log } = options;
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const marginMs = options.marginMs ?? 1_000;
  let shuttingDown = false;
  let exited = false;
  const exitOnce = (code: number): void => {
    if (exited) return;
    exited = true;
    exit(code);
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (shuttingDown) {
      log.warn({ signal }, 'second signal, exiting now');
      exitOnce(1);
      return;
    }
    shuttingDown = true;
    log.info({ signal, deadlineMs }, 'shutting down');
    const overdue = setTimeout(() => {
      log.error({ deadlineMs, marginMs }, 'shutdown deadline passed, exiting');
      exitOnce(1);
    }, deadlineMs + marginMs);
    overdue.unref();
    target.close({ deadlineMs }).then(
      () => {
        clearTimeout(overdue);
        log.info({}, 'shut down cleanly');
        exitOnce(0);
      },
      (err: unknown) => {
        clearTimeout(overdue);
        log.error({ err }, 'shutdown failed');
        exitOnce(1);
      },
    );
  };

  for (const s of signals) process.on(s, onSignal);
  return () => {
    for (const s of signals) process.off(s, onSignal);
  };
}
