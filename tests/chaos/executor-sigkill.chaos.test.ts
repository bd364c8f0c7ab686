import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosFleet } from './support/chaos-fleet';
import { ExecutorSupervisor } from './support/executor-supervisor';
import { checkInvariants } from './support/invariants';
import { killMidStep, type Kill } from './support/kill-mid-step';
import { printSummary } from './support/print-summary';
import { chaosRuns, submitWorkload } from './support/workload';

/**
 * Scenario 1 of issue 8: SIGKILL an executor mid-step, several times during the workload. Two
 * executors run under a supervisor that restarts whichever dies; each kill lands while the
 * victim has sink calls open. The survivor's stalled checker (lock 2 s) hands the killed steps
 * over, and the sink sees their keys again — as retries, never as a second effect.
 */
describe('chaos 1: SIGKILL executors mid-step', () => {
  const kills = 4;
  const killEveryMs = 2_500;
  let chaos: ChaosFleet;
  let supervisor: ExecutorSupervisor;
  beforeAll(async () => {
    chaos = await ChaosFleet.create({ delayMs: 400 });
    supervisor = new ExecutorSupervisor(chaos);
    await Promise.all([chaos.startApi(), chaos.startPlanner(), supervisor.start(2)]);
  }, 120_000);
  afterAll(async () => {
    await supervisor?.stop();
    await chaos?.close();
  }, 120_000);

  it('ends every run, applies every effect once, and hands killed steps to another executor', async () => {
    const startedAt = Date.now();
    const count = chaosRuns(200);
    const workload = submitWorkload(chaos, {
      name: 'kill',
      count,
      spreadOverMs: kills * killEveryMs,
    });
    const dealt: Kill[] = [];
    for (let i = 0; i < kills; i++) {
      await new Promise((r) => setTimeout(r, killEveryMs));
      dealt.push(await killMidStep(chaos, () => supervisor.live));
    }
    const submitted = await workload;
    const report = await checkInvariants(chaos, submitted.accepted, { settleWithinMs: 90_000 });
    await supervisor.stop();
    printSummary(
      'executor-sigkill',
      report,
      {
        kills: dealt.length,
        stepsInFlightAtKills: dealt.reduce((n, k) => n + k.inFlight, 0),
        executorRestarts: supervisor.started.length - 2,
        resubmitted: submitted.resubmitted,
      },
      startedAt,
    );
    expect([...submitted.violations, ...report.violations]).toEqual([]);
    expect(dealt).toHaveLength(kills);
    expect(dealt.every((k) => k.inFlight > 0)).toBe(true);
    expect(report.runs.accepted).toBe(count);
    // Killed mid-call, so some keys were delivered again, by the other executor.
    expect(report.sink.retriedByAnotherWorker).toBeGreaterThan(0);
    expect(report.sink.duplicateEffects).toBe(0);
  }, 240_000);
});
