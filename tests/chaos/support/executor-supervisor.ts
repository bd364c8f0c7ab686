import type { FleetProcess } from '../../support/fleet-process';
import { ChaosFleet } from './chaos-fleet';

/** One executor that ended while supervised. */
export interface ExecutorExit {
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/**
 * Keeps `count` chaos executors running, as a Deployment's ReplicaSet does: whenever one ends
 * (killed, crashed, drained) a new one is started after `restartDelayMs`. Records every exit.
 */
export class ExecutorSupervisor {
  readonly exits: ExecutorExit[] = [];
  readonly started: FleetProcess[] = [];
  #stopped = false;
  #starting = new Set<Promise<void>>();

  constructor(
    private readonly chaos: ChaosFleet,
    private readonly options: { env?: Record<string, string>; restartDelayMs?: number } = {},
  ) {}

  /** Start `count` executors; resolves once each has logged `executor started`. */
  async start(count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, () => this.#spawn()));
  }

  /** Executors running now. */
  get live(): FleetProcess[] {
    return this.started.filter((p) => p.running);
  }

  /** Stop restarting (running executors are left to `ChaosFleet.close`). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.allSettled([...this.#starting]);
  }

  #spawn(): Promise<void> {
    const p = this.chaos.fleet.start('executor', this.options.env ?? {}, ChaosFleet.executorEntry);
    this.started.push(p);
    void p.exited.then(({ code, signal }) => {
      this.exits.push({ pid: p.pid, code, signal, at: Date.now() });
      if (this.#stopped) return;
      const restart = new Promise<void>((r) => setTimeout(r, this.options.restartDelayMs ?? 200))
        .then(() => (this.#stopped ? undefined : this.#spawn()))
        .finally(() => this.#starting.delete(restart));
      this.#starting.add(restart);
    });
    // An executor that dies before it is up is restarted like any other; not an error here.
    return p
      .waitForLog((l) => l.msg === 'executor started', 30_000)
      .then(
        () => undefined,
        () => undefined,
      );
  }
}
