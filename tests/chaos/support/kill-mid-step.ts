import type { FleetProcess } from '../../support/fleet-process';
import { ChaosFleet } from './chaos-fleet';

/** One SIGKILL the scenario dealt. */
export interface Kill {
  pid: number | undefined;
  /** Sink requests of that executor still unanswered when it was killed (its steps mid-call). */
  inFlight: number;
  at: number;
}

/**
 * Wait until one of `candidates()` has a request open at the sink (a step mid-call), then SIGKILL
 * the one with the most. Rejects when none is mid-step within `timeoutMs`.
 */
export async function killMidStep(
  chaos: ChaosFleet,
  candidates: () => FleetProcess[],
  timeoutMs = 20_000,
): Promise<Kill> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busiest = candidates()
      .filter((p) => p.running)
      .map((p) => ({ p, inFlight: chaos.sink.inFlight(ChaosFleet.workerOf(p)) }))
      .sort((x, y) => y.inFlight - x.inFlight)[0];
    if (busiest && busiest.inFlight > 0) {
      busiest.p.signal('SIGKILL');
      await busiest.p.exited;
      return { pid: busiest.p.pid, inFlight: busiest.inFlight, at: Date.now() };
    }
    if (Date.now() > deadline) throw new Error('no executor was mid-step to kill');
    await new Promise((r) => setTimeout(r, 10));
  }
}
