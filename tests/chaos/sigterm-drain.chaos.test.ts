import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetProcess } from '../support/fleet-process';
import { ChaosFleet } from './support/chaos-fleet';
import { attemptOutcomes, checkInvariants } from './support/invariants';
import { printSummary } from './support/print-summary';
import { chaosRuns, submit, submitWorkload, type Accepted } from './support/workload';

const deadlineMs = 3_000;
const slowMs = 6_000;

/** One SIGTERM: how long the process took to exit, and what its drain logged. */
interface Drain {
  app: string;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  wallMs: number;
  /** `worker drained` → `cancelled`: jobs cut short at the deadline and handed back. */
  cancelled: number;
  /** Jobs the process finished after the signal (plans planned, sink calls answered). */
  finishedWhileDraining: number;
}

async function sigterm(p: FleetProcess): Promise<Drain> {
  const signalledAt = Date.now();
  const seen = p.lines.length;
  p.signal('SIGTERM');
  const exit = await p.exited;
  const wallMs = Date.now() - signalledAt;
  const after = p.lines.slice(seen);
  const drained = after.find((l) => l.msg === 'worker drained');
  const finished = p.app === 'planner' ? 'run planned and started' : 'http.request done';
  return {
    app: p.app,
    exit,
    wallMs,
    cancelled: Number(drained?.cancelled ?? -1),
    finishedWhileDraining: after.filter((l) => l.msg === finished).length,
  };
}

/**
 * Scenario 3 of issue 8: SIGTERM planner and executors with jobs in flight, as a rolling deploy
 * does. Each drain ends within its deadline (3 s) and exits 0; steps shorter than the deadline
 * finish, a step longer than it (the sink answers after 6 s) is cancelled, handed back without
 * using an attempt, and re-run by the next executor — its effect still applied once.
 */
describe('chaos 3: SIGTERM with jobs in flight', () => {
  let chaos: ChaosFleet;
  const env = { AGENTRY_SHUTDOWN_DEADLINE_MS: String(deadlineMs) };
  beforeAll(async () => {
    chaos = await ChaosFleet.create({ delayMs: 300, slowMs, env });
    await Promise.all([
      chaos.startApi(),
      chaos.startPlanner(),
      chaos.startPlanner(),
      chaos.startExecutor(),
      chaos.startExecutor(),
    ]);
  }, 120_000);
  afterAll(async () => {
    await chaos?.close();
  }, 120_000);

  it('drains within the deadline and re-runs what it cut short on the next worker', async () => {
    const startedAt = Date.now();
    const count = chaosRuns(200);
    const slow: Accepted[] = [];
    const workload = submitWorkload(chaos, {
      name: 'drain',
      count,
      concurrency: 8,
      spreadOverMs: 15_000,
    });
    const drains: Drain[] = [];

    // Planner: SIGTERM one of two while intents keep arriving; a new one replaces it.
    await new Promise((r) => setTimeout(r, 1_500));
    const [planner] = chaos.live('planner');
    if (planner) drains.push(await sigterm(planner));
    await chaos.startPlanner();

    // Executors, one after the other: each is signalled while a slow step is mid-call on it.
    for (let round = 0; round < 2; round++) {
      const fresh: Accepted[] = [];
      for (const tag of [`slow-${round}-a`, `slow-${round}-b`])
        fresh.push({ tag, kind: 'slow', runId: (await submit(chaos, 'slow', tag)).runId });
      slow.push(...fresh);
      const victim = await holderOfSlowStep(chaos, fresh);
      drains.push(await sigterm(victim));
      await chaos.startExecutor();
    }

    const submitted = await workload;
    const accepted = [...slow, ...submitted.accepted];
    const report = await checkInvariants(chaos, accepted, { settleWithinMs: 90_000 });
    const slowHistories = await attemptOutcomes(chaos, slow);
    printSummary(
      'sigterm-drain',
      report,
      {
        sigterms: drains.length,
        drainWallMs: drains.map((d) => d.wallMs),
        finishedWhileDraining: drains.reduce((n, d) => n + d.finishedWhileDraining, 0),
        cancelledAtDeadline: drains.reduce((n, d) => n + Math.max(0, d.cancelled), 0),
        slowStepHistories: slowHistories,
        resubmitted: submitted.resubmitted,
      },
      startedAt,
    );

    expect([...submitted.violations, ...report.violations]).toEqual([]);
    for (const d of drains) {
      expect(d.exit, `${d.app} exit`).toEqual({ code: 0, signal: null });
      expect(d.wallMs, `${d.app} drain`).toBeLessThan(deadlineMs + 1_000);
    }
    // Executors cut the slow step short at the deadline; the next worker ran it to success.
    const executorDrains = drains.filter((d) => d.app === 'executor');
    expect(executorDrains.every((d) => d.cancelled >= 1)).toBe(true);
    expect(executorDrains.reduce((n, d) => n + d.finishedWhileDraining, 0)).toBeGreaterThan(0);
    expect(slowHistories.filter((h) => h.includes('cancelled'))).not.toHaveLength(0);
    for (const history of slowHistories) expect(history.at(-1)).toBe('succeeded');
    // A drain uses no attempt and fails nothing: no dead letter, every run succeeded.
    expect(report.deadLetters).toBe(0);
    expect(report.runs.succeeded).toBe(accepted.length);
    const slowKeys = slow.map((s) => chaos.sink.records.get(`${s.runId}.slow`));
    expect(slowKeys.some((r) => (r?.deliveries ?? 0) > 1)).toBe(true);
  }, 240_000);
});

/** Wait until a live executor has one of the slow steps mid-call; that executor. */
async function holderOfSlowStep(chaos: ChaosFleet, slow: Accepted[]): Promise<FleetProcess> {
  const deadline = Date.now() + 30_000;
  const keys = new Set(slow.map((s) => `${s.runId}.slow`));
  for (;;) {
    for (const p of chaos.live('executor')) {
      const worker = ChaosFleet.workerOf(p);
      const holds = [...chaos.sink.records.values()].some(
        (r) =>
          keys.has(r.key) &&
          r.workers.at(-1) === worker &&
          Date.now() - r.lastAt < slowMs - deadlineMs - 500,
      );
      if (holds && chaos.sink.inFlight(worker) > 0) return p;
    }
    if (Date.now() > deadline) throw new Error('no executor picked up a slow step');
    await new Promise((r) => setTimeout(r, 20));
  }
}
