import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosFleet } from './support/chaos-fleet';
import { checkInvariants } from './support/invariants';
import { printSummary } from './support/print-summary';
import { chaosRuns, submit, submitWorkload } from './support/workload';

const lockMs = 2_000;
const blockMs = 4 * lockMs;

/**
 * Scenario 6 of issue 8 (docs/reliability.md).
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
 * Both must be no-ops: Postgres records a step's outcome only for its open attempt (migration
 * 0005 and the step repository), and the executor then leaves the job to its new owner.
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
    await chaos.startFleet(1);
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
    // The blocked worker woke up twice as a stale owner (block: call answered; slow: call still
    // pending or answered late) and Postgres refused both writes; the new owner recorded each
    // step once. Attempts: the blocked worker's closed as abandoned by the takeover, then the
    // owner's succeeded — nothing left running, no third run.
    const [blocked] = chaos.processes.filter((p) => p.app === 'executor');
    const refused = blocked?.lines.filter((l) =>
      String(l.msg).startsWith('step re-claimed by another worker'),
    );
    expect(refused?.length).toBeGreaterThanOrEqual(1);
    const owner = (attempts: string[]) => attempts.at(-1)?.replace(/^succeeded@/, '');
    for (const attempts of [await history(block.runId), await history(slow.runId)]) {
      expect(attempts).toHaveLength(2);
      expect(attempts[0]).toBe(`failed@${String(blocked?.pid)}`);
      expect(attempts[1]).toMatch(/^succeeded@/);
      expect(owner(attempts)).not.toBe(String(blocked?.pid));
    }
    expect(report.sink.duplicateEffects).toBe(0);
    // Only the owner of a step records it: the slow step runs twice (blocked worker, then the
    // takeover), not a third time after the blocked worker put it back to `queued`.
    expect(slowRecord?.deliveries).toBe(2);
    expect([...submitted.violations, ...report.violations]).toEqual([]);
  }, 240_000);
});
