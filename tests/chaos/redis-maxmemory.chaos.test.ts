import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosFleet } from './support/chaos-fleet';
import { attemptOutcomes, checkInvariants } from './support/invariants';
import { submitThroughOutage } from './support/outage-workload';
import type { Accepted } from './support/workload';
import { printSummary } from './support/print-summary';
import { PrivateRedis, type MemoryFiller } from './support/private-redis';
import { fleetRecovery, logNoise, openRunCount, watchReadiness } from './support/redis-faults';
import { chaosRuns, submit } from './support/workload';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The slow steps' calls: long enough to be mid-call when Redis fills, short of the OOM window. */
const slowMs = 3_000;
const oomMs = 5_000;
/** The API refuses new intents from this share of maxmemory on (its default). */
const intakeRatio = 0.9;

/**
 * Scenario 9 of issue 8: Redis near its memory limit. The fleet runs on a private redis-server
 * with a `maxmemory` (policy `noeviction`, the only one BullMQ supports) a few MB above what it
 * uses. Mid-workload a key is grown until Redis is at 95 % of its limit: above the API's intake
 * threshold (90 %), so producers get 503 UNAVAILABLE (`redis_memory_full`, Retry-After) with
 * nothing saved, while the runs already accepted keep going in the headroom left. Then Redis is
 * filled to the limit itself, so it refuses the fleet's own writes (OOM) for a few seconds: jobs
 * cannot be completed, locks cannot be renewed. Once the key is freed everything accepted
 * finishes, with no dead letter, and the producers' retries get in.
 */
describe('chaos 9: Redis near its memory limit', () => {
  let redis: PrivateRedis;
  let chaos: ChaosFleet;
  let filler: MemoryFiller | undefined;
  beforeAll(async () => {
    redis = await PrivateRedis.create();
    chaos = await ChaosFleet.create({
      delayMs: 300,
      slowMs,
      env: { AGENTRY_REDIS_URL: redis.url },
    });
    await chaos.startFleet();
  }, 120_000);
  afterAll(async () => {
    filler?.close();
    await chaos?.close();
    await redis?.close();
  }, 120_000);

  it('refuses new intents clearly near the limit and loses nothing already accepted', async () => {
    const startedAt = Date.now();
    const count = chaosRuns(200);
    const processes = [...chaos.processes];
    const used = Number((await redis.info('memory')).used_memory);
    const maxBytes = used + 16 * 1024 * 1024;
    await redis.command('CONFIG', 'SET', 'maxmemory', String(maxBytes));
    filler = redis.filler();
    const readiness = watchReadiness(chaos);
    const workload = submitThroughOutage(chaos, { name: 'mem', count, spreadOverMs: 18_000 });

    // At the limit, with runs in flight: Redis refuses the fleet's own writes (OOM) — jobs
    // can be neither taken nor finished, locks not renewed — and the API refuses new intents.
    // Two slow steps are mid-call when it fills, and their calls end while it is full.
    await sleep(2_500);
    const slow: Accepted[] = [];
    for (const tag of ['slow-mem-a', 'slow-mem-b'])
      slow.push({ tag, kind: 'slow', runId: (await submit(chaos, 'slow', tag)).runId });
    await Promise.all(
      slow.map((s) => chaos.sink.waitForDelivery((r) => r.key === `${s.runId}.slow`, 30_000)),
    );
    const inFlightWhenFull = await openRunCount(chaos);
    const filled = await filler.fillTo(0.99);
    // Over the limit: maxmemory a little under what is used, so Redis refuses every write.
    await redis.command('CONFIG', 'SET', 'maxmemory', String(Math.floor(filled.usedBytes * 0.97)));
    const fullAt = Date.now();
    const refusedWhileFull = await redis.command('SET', 'chaos:probe', 'x').then(
      () => false,
      (e: unknown) => /^OOM /.test(e instanceof Error ? e.message : ''),
    );
    await sleep(oomMs);
    // Near the limit: above the API's intake threshold, below Redis's own; the work accepted
    // before goes on in the headroom, new intents are still refused.
    await redis.command('CONFIG', 'SET', 'maxmemory', String(maxBytes));
    const near = await filler.lowerTo(0.95);
    await sleep(4_000);
    const freed = await filler.free();
    const freedAt = Date.now();

    const submitted = await workload;
    const accepted = [...slow, ...submitted.accepted];
    const report = await checkInvariants(chaos, accepted, { settleWithinMs: 90_000 });
    const notRecorded = processes.reduce(
      (n, p) => n + p.lines.filter((l) => l.msg?.startsWith('job outcome not recorded')).length,
      0,
    );
    const slowAttempts = await attemptOutcomes(chaos, slow);
    const ready = readiness.stop();
    const recovery = fleetRecovery(processes);
    const { answers } = submitted;
    const refusedWrites = processes.reduce(
      (n, p) => n + p.lines.filter((l) => JSON.stringify(l).includes('OOM command')).length,
      0,
    );
    printSummary(
      'redis-maxmemory',
      report,
      {
        maxmemoryMb: Math.round(maxBytes / 1024 / 1024),
        usageNear: Math.round(near.ratio * 100) / 100,
        usageFilled: Math.round(filled.ratio * 100) / 100,
        refusedWhileFull,
        usageFreed: Math.round(freed.ratio * 100) / 100,
        runsInFlightWhenFull: inFlightWhenFull,
        answered503: answers.unavailable,
        max503Ms: answers.unavailableMaxMs,
        reasons503: answers.reasons,
        acceptedNotQueued: answers.acceptedNotQueued,
        otherAnswers: answers.other,
        noAnswer: answers.noAnswer,
        fleetLogLinesWithOom: refusedWrites,
        outcomesNotRecorded: notRecorded,
        slowStepAttempts: slowAttempts,
        slowStepDeliveries: slow.map((s) => chaos.sink.records.get(`${s.runId}.slow`)?.deliveries),
        readyzNotReadyWhileFull: ready.notReadyBetween(fullAt, freedAt),
        processExits: recovery.exits,
        runsRepairedByReconciler: recovery.runsRepaired,
        fleetLogLines: logNoise(processes),
        resubmitted: submitted.resubmitted,
      },
      startedAt,
    );

    expect([...submitted.violations, ...report.violations]).toEqual([]);
    expect(near.ratio).toBeGreaterThanOrEqual(intakeRatio);
    expect(near.ratio).toBeLessThan(1);
    expect(refusedWhileFull).toBe(true);
    // The fault hit work in flight: the fleet's own writes were refused.
    expect(inFlightWhenFull).toBeGreaterThan(0);
    expect(refusedWrites).toBeGreaterThan(0);
    // Producers were refused clearly (503 UNAVAILABLE for memory, Retry-After) and promptly.
    expect(answers.reasons.redis_memory_full ?? 0).toBeGreaterThan(0);
    expect(answers.unclear).toBe(0);
    expect(answers.other).toEqual([]);
    expect(answers.noAnswer).toBe(0);
    expect(answers.unavailableMaxMs).toBeLessThan(5_000);
    // Nothing accepted was lost: every run succeeded, none dead-lettered, no process died.
    expect(report.runs.accepted).toBe(accepted.length);
    expect(report.runs.succeeded).toBe(accepted.length);
    expect(report.deadLetters).toBe(0);
    expect(recovery.exits).toEqual([]);
  }, 240_000);
});
