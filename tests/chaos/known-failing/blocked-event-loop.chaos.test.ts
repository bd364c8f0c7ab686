import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosFleet } from '../support/chaos-fleet';
import { checkInvariants } from '../support/invariants';
import { printSummary } from '../support/print-summary';
import { chaosRuns, submit, submitWorkload } from '../support/workload';

const lockMs = 2_000;
const blockMs = 4 * lockMs;

/**
 * Scenario 6 of issue 8 — KNOWN FAILING, not part of `pnpm test:chaos` (docs/reliability.md):
 * run it with `AGENTRY_CHAOS_KNOWN_FAILING=1 pnpm test:chaos tests/chaos/known-failing`.
 *
 * A step blocks its executor's event loop (a busy wait right after its call, as a runaway parse
 * or a long GC pause would) for four lock periods. The worker cannot renew its locks, so a second
 * executor's stalled checker takes its jobs and runs them again. The sink holds the answers of
 * those second runs until the blocked worker is awake again, and a slow step (answer after
 * 12 s) is in flight on the blocked worker too, so both races are forced:
 * - the blocked worker wakes with its call answered: it records the step as succeeded with an
 *   attempt the takeover had already closed, while the new owner is still running it;
 * - the blocked worker wakes with its call pending: lock lost, it cancels its attempt and puts
 *   the step back to `queued` while the new owner is running it.
 * Both must be no-ops (the attempt id fences them); today they are not.
 */
describe('chaos 6: an event loop blocked past the lock', () => {
  let chaos: ChaosFleet;
  beforeAll(async () => {
    chaos = await ChaosFleet.create({
      delayMs: 300,
      lockMs,
      blockMs,
      blockRetryDelayMs: blockMs,
      slowMs: blockMs + 4_000,
    });
    // One executor first, so the slow and the blocking step both land on it.
    await Promise.all([chaos.startApi(), chaos.startPlanner(), chaos.startExecutor()]);
  }, 120_000);
  afterAll(async () => {
    await chaos?.close();
  }, 120_000);

  it('hands the blocked worker’s jobs to another worker; only the owner records them', async () => {
    const startedAt = Date.now();
    const count = Math.ceil(chaosRuns(200) / 2);
    const workload = submitWorkload(chaos, { name: 'bg', count, spreadOverMs: 10_000 });
    const slow = await submit(chaos, 'slow', 'slow-0');
    await chaos.sink.waitForDelivery((r) => r.key === `${slow.runId}.slow`);
    const block = await submit(chaos, 'block', 'block-0');
    await chaos.sink.waitForDelivery((r) => r.key === `${block.runId}.block`);
    await chaos.startExecutor();
    const submitted = await workload;
    const accepted = [
      { tag: 'slow-0', kind: 'slow' as const, runId: slow.runId },
      { tag: 'block-0', kind: 'block' as const, runId: block.runId },
      ...submitted.accepted,
    ];
    const report = await checkInvariants(chaos, accepted, { settleWithinMs: 90_000 });
    const history = async (runId: string) =>
      (
        await chaos.fleet.database.db
          .selectFrom('stepAttempts')
          .select(['worker', 'outcome'])
          .where('runId', '=', runId)
          .orderBy('id')
          .execute()
      ).map((a) => `${a.outcome}@${a.worker.replace(/^.*:/, '')}`);
    const blockRecord = chaos.sink.records.get(`${block.runId}.block`);
    const slowRecord = chaos.sink.records.get(`${slow.runId}.slow`);
    printSummary(
      'blocked-event-loop',
      report,
      {
        blockMs,
        blockAttempts: await history(block.runId),
        blockDeliveries: blockRecord?.workers,
        slowAttempts: await history(slow.runId),
        slowDeliveries: slowRecord?.workers,
        jobsStalled: chaos.processes
          .flatMap((p) => p.lines)
          .filter((l) => l.msg === 'job stalled (lock lapsed), moved back to wait').length,
        resubmitted: submitted.resubmitted,
      },
      startedAt,
    );

    // The takeover happened, and each effect was applied once.
    expect(new Set(blockRecord?.workers).size).toBe(2);
    expect(report.sink.duplicateEffects).toBe(0);
    // Only the owner of a step records it: the slow step runs twice (blocked worker, then the
    // takeover), not a third time after the blocked worker put it back to `queued`.
    expect(slowRecord?.deliveries).toBe(2);
    expect([...submitted.violations, ...report.violations]).toEqual([]);
  }, 240_000);
});
