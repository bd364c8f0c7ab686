import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosFleet } from './support/chaos-fleet';
import { checkInvariants } from './support/invariants';
import { submitThroughOutage } from './support/outage-workload';
import { printSummary } from './support/print-summary';
import { PrivateRedis } from './support/private-redis';
import { fleetRecovery, logNoise, openRunCount, watchReadiness } from './support/redis-faults';
import { chaosRuns } from './support/workload';

const outageMs = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Scenario 4 of issue 8: restart redis-server during the workload, then stop it for 10 s. The
 * fleet runs on a private redis-server without persistence, so each restart comes back empty:
 * every waiting, delayed and active job is gone. While Redis is down the API refuses intents at
 * once (503 UNAVAILABLE with Retry-After; nothing saved) and /readyz reports not ready; the
 * producer retries with the same idempotency key. Planner, executors and the API reconnect by
 * themselves (none exits), and the planner's reconciler re-enqueues from Postgres what Redis
 * lost: plan jobs of runs still pending, step jobs of queued steps.
 */
describe('chaos 4: Redis restarted, then down for 10 s', () => {
  let redis: PrivateRedis;
  let chaos: ChaosFleet;
  beforeAll(async () => {
    redis = await PrivateRedis.create();
    chaos = await ChaosFleet.create({ delayMs: 300, env: { AGENTRY_REDIS_URL: redis.url } });
    await chaos.startFleet();
  }, 120_000);
  afterAll(async () => {
    await chaos?.close();
    await redis?.close();
  }, 120_000);

  it('refuses intents fast while Redis is down, recovers by itself, and re-enqueues what Redis lost', async () => {
    const startedAt = Date.now();
    const count = chaosRuns(200);
    const processes = [...chaos.processes];
    const readiness = watchReadiness(chaos);
    const workload = submitThroughOutage(chaos, {
      name: 'redis',
      count,
      spreadOverMs: 20_000,
    });

    // Fault 1: a restart. Without persistence, every job in Redis is lost.
    await sleep(3_000);
    const openAtRestart = await openRunCount(chaos);
    const keysLostAtRestart = Number(await redis.command('DBSIZE'));
    await redis.restart();

    // Fault 2: down for 10 s, then back (empty again).
    await sleep(4_000);
    const openAtStop = await openRunCount(chaos);
    const keysLostAtStop = Number(await redis.command('DBSIZE'));
    await redis.stop();
    const down = { from: Date.now(), to: 0 };
    await sleep(outageMs);
    await redis.start();
    down.to = Date.now();

    const submitted = await workload;
    const report = await checkInvariants(chaos, submitted.accepted, { settleWithinMs: 90_000 });
    const ready = readiness.stop();
    const recovery = fleetRecovery(processes);
    const { answers } = submitted;
    printSummary(
      'redis-restart',
      report,
      {
        redisRestarts: redis.starts - 1,
        keysLostAtRestart,
        runsOpenAtRestart: openAtRestart,
        keysLostAtStop,
        runsOpenAtStop: openAtStop,
        outageMs: down.to - down.from,
        answered503: answers.unavailable,
        max503Ms: answers.unavailableMaxMs,
        reasons503: answers.reasons,
        acceptedNotQueued: answers.acceptedNotQueued,
        otherAnswers: answers.other,
        noAnswer: answers.noAnswer,
        readyzNotReadyWhileDown: ready.notReadyBetween(down.from + 2_500, down.to),
        readyzReadyAfterMs: ready.readyAfter(down.to),
        reconnects: recovery.reconnects,
        processExits: recovery.exits,
        runsRepairedByReconciler: recovery.runsRepaired,
        planJobsReenqueued: recovery.planJobsReenqueued,
        stepsRedispatched: recovery.stepsRedispatched,
        fleetLogLines: logNoise(processes),
        resubmitted: submitted.resubmitted,
      },
      startedAt,
    );

    expect([...submitted.violations, ...report.violations]).toEqual([]);
    expect(report.runs.accepted).toBe(count);
    expect(report.runs.succeeded).toBe(count);
    // Producers were refused while Redis was down: clearly (503 UNAVAILABLE, Retry-After) and
    // promptly — well under the client's 10 s timeout, never a hang or an error of another kind.
    expect(answers.unavailable).toBeGreaterThan(0);
    expect(answers.unclear).toBe(0);
    expect(answers.other).toEqual([]);
    expect(answers.noAnswer).toBe(0);
    expect(answers.unavailableMaxMs).toBeLessThan(5_000);
    // /readyz went not-ready while Redis was down and ready again after.
    expect(ready.notReadyBetween(down.from + 2_500, down.to)).toBeGreaterThan(0);
    expect(ready.readyAfter(down.to)).toBeGreaterThanOrEqual(0);
    // Every process rode it out: none exited, each reconnected.
    expect(recovery.exits).toEqual([]);
    for (const p of processes) expect(recovery.reconnectsOf(p), p.app).toBeGreaterThan(0);
    // Every Redis client has an error listener: nothing on stderr ("Unhandled error event").
    expect(logNoise(processes).stderrChars).toBe(0);
    // Redis lost jobs twice; the reconciler put the lost work back.
    expect(keysLostAtRestart + keysLostAtStop).toBeGreaterThan(0);
    expect(recovery.runsRepaired).toBeGreaterThan(0);
  }, 240_000);
});
