import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIds, queueNames } from '@agentry/schema';
import { redisUrl } from '../support/fleet';
import type { FleetProcess } from '../support/fleet-process';
import { ChaosFleet, chaosTenant } from './support/chaos-fleet';
import { checkInvariants } from './support/invariants';
import { printSummary } from './support/print-summary';
import { startRedisProxy, type RedisProxy } from './support/redis-proxy';
import { chaosRuns, submitWorkload } from './support/workload';

/**
 * Scenario 2 of issue 8: SIGKILL the planner between the database commit and the enqueue. The
 * planner reaches Redis through a proxy; mid-workload the proxy starts swallowing what the
 * planner's producer connection sends (its worker connections still work), so each plan it
 * takes is committed — run `running`, root step `queued` — and its step jobs never reach Redis.
 * Once several runs are in that state the planner is killed and a new one started. Its
 * reconciler must find those runs and finish them; nothing else would.
 */
describe('chaos 2: planner killed between the commit and the enqueue', () => {
  let chaos: ChaosFleet;
  let proxy: RedisProxy;
  let redis: Redis;
  beforeAll(async () => {
    proxy = await startRedisProxy();
    redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    chaos = await ChaosFleet.create({ delayMs: 200 });
    await Promise.all([
      chaos.startApi(),
      chaos.startExecutor(),
      chaos.startExecutor(),
      chaos.startPlanner({ AGENTRY_REDIS_URL: proxy.url }),
    ]);
  }, 120_000);
  afterAll(async () => {
    await chaos?.close();
    redis?.disconnect();
    await proxy?.close();
  }, 120_000);

  it('leaves runs committed but not enqueued, and the next planner’s reconciler finishes them', async () => {
    const startedAt = Date.now();
    const count = chaosRuns(200);
    const workload = submitWorkload(chaos, { name: 'plan', count, spreadOverMs: 12_000 });
    await new Promise((r) => setTimeout(r, 2_000));
    const [planner] = chaos.live('planner') as [FleetProcess];
    proxy.hold('planner-producer');
    const orphans = await waitForOrphans(chaos, redis, 3);
    planner.signal('SIGKILL');
    await planner.exited;
    const next = await chaos.startPlanner();
    const submitted = await workload;
    const report = await checkInvariants(chaos, submitted.accepted, { settleWithinMs: 120_000 });
    const repaired = new Set(
      next.lines
        .filter((l) => l.msg === 'reconciler repaired runs')
        .flatMap((l) => (l.runs as Array<{ runId: string }>).map((r) => r.runId)),
    );
    const states = await chaos.fleet.database.db
      .selectFrom('runs')
      .select(['id', 'state'])
      .where('id', 'in', orphans)
      .execute();
    printSummary(
      'planner-kill-before-enqueue',
      report,
      {
        kills: 1,
        orphanedAtKill: orphans.length,
        orphansRepairedByReconciler: orphans.filter((id) => repaired.has(id)).length,
        runsRepairedByReconciler: repaired.size,
        producerCommandsSwallowed: proxy.held(),
        resubmitted: submitted.resubmitted,
      },
      startedAt,
    );

    expect([...submitted.violations, ...report.violations]).toEqual([]);
    expect(orphans.length).toBeGreaterThanOrEqual(3);
    expect(states.map((s) => s.state)).toEqual(orphans.map(() => 'succeeded'));
    expect(orphans.filter((id) => !repaired.has(id))).toEqual([]);
    expect(report.runs.succeeded).toBe(report.runs.accepted);
  }, 240_000);
});

/**
 * Wait until at least `atLeast` runs are committed as planned (running, root step `queued`,
 * never attempted) with no job for their root step in Redis; their ids.
 */
async function waitForOrphans(chaos: ChaosFleet, redis: Redis, atLeast: number) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const planned = await chaos.fleet.database.db
      .selectFrom('runs')
      .innerJoin('steps', 'steps.runId', 'runs.id')
      .select('runs.id')
      .where('runs.tenantId', '=', chaosTenant)
      .where('runs.state', '=', 'running')
      .where('steps.stepId', '=', 'a')
      .where('steps.state', '=', 'queued')
      .where('steps.attempts', '=', 0)
      .execute();
    const orphans: string[] = [];
    for (const { id } of planned) {
      const key = `${chaos.fleet.prefix}:${queueNames.step}:${jobIds.step(id, 'a')}`;
      if ((await redis.exists(key)) === 0) orphans.push(id);
    }
    if (orphans.length >= atLeast) return orphans;
    if (Date.now() > deadline) throw new Error(`only ${orphans.length} runs left unenqueued`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
