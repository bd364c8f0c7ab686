import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosFleet } from './support/chaos-fleet';
import { ExecutorSupervisor } from './support/executor-supervisor';
import { checkInvariants } from './support/invariants';
import { printSummary } from './support/print-summary';
import { chaosRuns, submit, submitWorkload, type Accepted } from './support/workload';

const lockMs = 2_000;
const maxStalled = 2;
const poisons = 2;

/**
 * Scenario 7 of issue 8: a poison step kills (SIGKILL, as an OOM kill) every executor that runs
 * it. The supervisor restarts executors as a Deployment would; each crash leaves the step's lock
 * to lapse, the stalled checker counts it, and after `maxStalled` the job fails for good: a dead
 * letter, the run failed, and no executor runs it again — no crash loop. A background workload
 * keeps going meanwhile.
 */
describe('chaos 7: a poison step that crashes its worker every time', () => {
  let chaos: ChaosFleet;
  let supervisor: ExecutorSupervisor;
  beforeAll(async () => {
    chaos = await ChaosFleet.create({
      delayMs: 300,
      lockMs,
      env: { AGENTRY_EXECUTOR_MAX_STALLED: String(maxStalled) },
    });
    supervisor = new ExecutorSupervisor(chaos);
    await Promise.all([chaos.startApi(), chaos.startPlanner(), supervisor.start(2)]);
  }, 120_000);
  afterAll(async () => {
    await supervisor?.stop();
    await chaos?.close();
  }, 120_000);

  it('dead-letters the poison step after the stalled limit, with no crash loop', async () => {
    const startedAt = Date.now();
    const count = Math.ceil(chaosRuns(200) / 2);
    const workload = submitWorkload(chaos, { name: 'bg', count, spreadOverMs: 8_000 });
    const poisoned: Accepted[] = [];
    for (let i = 0; i < poisons; i++) {
      const tag = `poison-${i}`;
      poisoned.push({ tag, kind: 'poison', runId: (await submit(chaos, 'poison', tag)).runId });
    }
    const submitted = await workload;
    const report = await checkInvariants(chaos, [...poisoned, ...submitted.accepted], {
      settleWithinMs: 120_000,
    });
    // No crash loop: once the poison is dead-lettered, executors stay up.
    const crashesAtSettle = supervisor.exits.length;
    await new Promise((r) => setTimeout(r, 3 * lockMs));
    const { db } = chaos.fleet.database;
    const letters = await db
      .selectFrom('deadLetters')
      .select(['runId', 'stepId', 'errorCode', 'reason'])
      .execute();
    const poisonRuns = await db
      .selectFrom('runs')
      .select(['id', 'state'])
      .where(
        'id',
        'in',
        poisoned.map((p) => p.runId),
      )
      .execute();
    const background = report.runs.accepted - poisons;
    const collateral = letters.filter((l) => l.stepId !== 'poison');
    await supervisor.stop();
    printSummary(
      'poison-step',
      report,
      {
        poisonRuns: poisons,
        executorCrashes: supervisor.exits.length,
        crashesAfterDeadLetter: supervisor.exits.length - crashesAtSettle,
        poisonDeliveries: poisoned.map(
          (p) => chaos.sink.records.get(`${p.runId}.poison`)?.deliveries,
        ),
        poisonDeadLetterCodes: letters.filter((l) => l.stepId === 'poison').map((l) => l.errorCode),
        backgroundRuns: background,
        backgroundFailedWithDeadLetter: new Set(collateral.map((l) => l.runId)).size,
        collateralReasons: [...new Set(collateral.map((l) => `${l.errorCode}: ${l.reason}`))],
        resubmitted: submitted.resubmitted,
      },
      startedAt,
    );

    expect([...submitted.violations, ...report.violations]).toEqual([]);
    expect(poisonRuns.map((r) => r.state)).toEqual(poisoned.map(() => 'failed'));
    for (const p of poisoned) {
      expect(letters.filter((l) => l.runId === p.runId && l.stepId === 'poison')).toHaveLength(1);
      // Each delivery that reached the sink crashed its worker; a crash of a neighbour (the other
      // poison step on the same executor) also counts as a stall, so some may never reach it.
      const deliveries = chaos.sink.records.get(`${p.runId}.poison`)?.deliveries ?? 0;
      expect(deliveries).toBeGreaterThanOrEqual(1);
      expect(deliveries).toBeLessThanOrEqual(maxStalled + 1);
    }
    // Bounded crashes: at most one per allowed stall of each poison step, then none.
    expect(supervisor.exits.every((e) => e.signal === 'SIGKILL')).toBe(true);
    expect(supervisor.exits.length).toBeGreaterThanOrEqual(maxStalled + 1);
    expect(supervisor.exits.length).toBeLessThanOrEqual(poisons * (maxStalled + 1));
    expect(supervisor.exits.length).toBe(crashesAtSettle);
    expect(supervisor.live).toHaveLength(2);
    expect(report.runs.succeeded + report.runs.failedWithDeadLetter).toBe(report.runs.accepted);
  }, 240_000);
});
