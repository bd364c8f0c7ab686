import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine } from '../support/fleet-process';
import { ChaosFleet } from './support/chaos-fleet';
import { checkInvariants } from './support/invariants';
import { printSummary } from './support/print-summary';
import { RedisCluster, type Failover } from './support/redis-cluster';
import { chaosRuns, submitWorkload } from './support/workload';

/** Redis Cluster errors that must never reach a process's logs as a failure. */
const clusterErrors = /CROSSSLOT|\bMOVED \d+|\bASK \d+|Too many Cluster redirections/;
const warnLevel = 40;

/** Lines (and stderr chunks) of every process, as text, with their time when known. */
function logTexts(
  chaos: ChaosFleet,
): Array<{ app: string; time: number; text: string; line?: LogLine }> {
  return chaos.processes.flatMap((p) => [
    ...p.lines.map((line) => ({
      app: p.app,
      time: typeof line.time === 'string' ? Date.parse(line.time) : Number(line.time ?? 0),
      text: JSON.stringify(line),
      line,
    })),
    ...p.stderr.map((text) => ({ app: p.app, time: 0, text })),
  ]);
}

/** The /readyz of every live process: planner and executors on their health port, the API's own. */
function readinessUrls(chaos: ChaosFleet): string[] {
  const health = chaos.processes
    .filter((p) => p.running && p.app !== 'api')
    .map((p) => p.lines.find((l) => l.msg === 'health server listening')?.port)
    .filter((port) => port !== undefined)
    .map((port) => `http://127.0.0.1:${String(port)}/readyz`);
  return [...health, `${chaos.fleet.apiUrl}/readyz`];
}

/** GET each URL once (2 s bound); how many answered 200. */
async function ready(urls: readonly string[]): Promise<number> {
  const answers = await Promise.all(
    urls.map((url) =>
      fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.status,
        () => 0,
      ),
    ),
  );
  return answers.filter((status) => status === 200).length;
}

/**
 * Scenario 11 of issue 8: the same workload on a Redis Cluster — three masters with one replica
 * each on loopback — with a manual failover (`CLUSTER FAILOVER` on the replica) of the master
 * that holds the fleet's hash slot while runs are in flight. Planner, two executors and the API
 * find the cluster through `AGENTRY_REDIS_CLUSTER_NODES`. Every key of the fleet shares one slot
 * (the `{…}` prefix), so no command may ever meet CROSSSLOT; the failover moves that slot to the
 * replica, and the clients must follow it (MOVED is a redirect, never a failure) and lose nothing.
 */
describe('chaos 11: Redis Cluster with a manual failover', () => {
  const failoverAfterMs = 3_000;
  let cluster: RedisCluster;
  let chaos: ChaosFleet;
  beforeAll(async () => {
    cluster = await RedisCluster.create();
    chaos = await ChaosFleet.create({
      delayMs: 300,
      env: { AGENTRY_REDIS_CLUSTER_NODES: cluster.seeds },
    });
    await chaos.startFleet();
  }, 120_000);
  afterAll(async () => {
    await chaos?.close();
    await cluster?.close();
  }, 120_000);

  it('runs every intent once, with no CROSSSLOT, and rides out the failover of its master', async () => {
    const startedAt = Date.now();
    const count = chaosRuns(200);
    const slotKey = `${chaos.fleet.prefix}:agentry.step:wait`;
    const slot = await cluster.slotOf(slotKey);
    const masterBefore = await cluster.masterOf(slot);

    const workload = submitWorkload(chaos, { name: 'cluster', count, spreadOverMs: 8_000 });
    await new Promise((r) => setTimeout(r, failoverAfterMs));
    const effectsBefore = chaos.sink.records.size;
    const probes = readinessUrls(chaos);
    const readyBefore = await ready(probes);
    // Readiness (every master checked, cluster_state ok) is probed all through the failover.
    let probing = true;
    const duringFailover = { probes: 0, notReady: 0 };
    const prober = (async () => {
      while (probing) {
        const n = await ready(probes);
        duringFailover.probes += probes.length;
        duringFailover.notReady += probes.length - n;
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const failoverStartedAt = Date.now();
    const failover: Failover = await cluster.failover(slotKey).finally(() => (probing = false));
    const failoverEndedAt = Date.now();
    await prober;
    const submitted = await workload;
    const report = await checkInvariants(chaos, submitted.accepted, { settleWithinMs: 90_000 });

    // The failed-over master's replica took over, as every node sees it.
    const nodes = await cluster.nodes();
    const promoted = nodes.find((n) => n.port === failover.to);
    const demoted = nodes.find((n) => n.port === failover.from);
    const roles = {
      promoted: await cluster.role(failover.to),
      demoted: await cluster.role(failover.from),
    };
    const masterAfter = await cluster.masterOf(slot);
    const readyAfter = await ready(probes);
    // Every key of the fleet is on the master of its one slot (none elsewhere: no CROSSSLOT risk).
    const keysByNode: Record<string, number> = {};
    for (const n of nodes.filter((x) => x.role === 'master')) {
      const keys = (await cluster.command(n.port, 'KEYS', `${chaos.fleet.prefix}*`)) as string[];
      keysByNode[String(n.port)] = keys.length;
    }

    // What the servers answered, from their own counters (INFO errorstats): no CROSSSLOT ever;
    // the MOVED replies are the redirects the clients followed after the failover. (Redis 7.0
    // answers ERR to the CLIENT SETINFO of every ioredis handshake: ERR counts connections.)
    const errorReplies: Record<string, number> = {};
    for (const port of cluster.ports) {
      const stats = await cluster.info(port, 'errorstats');
      for (const [field, value] of Object.entries(stats)) {
        const name = field.replace(/^errorstat_/, '');
        errorReplies[name] =
          (errorReplies[name] ?? 0) + Number(/count=(\d+)/.exec(value)?.[1] ?? 0);
      }
    }

    // Work went on after the failover: effects first applied once it was over…
    const effectsAfter = [...chaos.sink.records.values()].filter(
      (r) => r.firstAt > failoverEndedAt,
    );
    // …by each executor: a worker whose blocking fetch was cut by the failover (UNBLOCKED, MOVED)
    // must fetch again on the new master, not sit idle while the other does the work.
    const executors = chaos.live('executor').map((p) => ChaosFleet.workerOf(p));
    const afterByExecutor = Object.fromEntries(
      executors.map((w) => [w, effectsAfter.filter((r) => r.workers[0] === w).length]),
    );
    const texts = logTexts(chaos);
    const clusterErrorLines = texts.filter((t) => clusterErrors.test(t.text));
    const windowEnd = failoverEndedAt + 5_000;
    const problemsDuringFailover = texts.filter(
      (t) =>
        t.line !== undefined &&
        Number(t.line.level) >= warnLevel &&
        t.time >= failoverStartedAt &&
        t.time <= windowEnd,
    );
    const linesSaying = (msg: string) => texts.filter((t) => t.line?.msg === msg).length;

    printSummary(
      'redis-cluster',
      report,
      {
        nodes: nodes.length,
        slot,
        failover: {
          from: failover.from,
          to: failover.to,
          ms: failover.ms,
          settledMs: failoverEndedAt - failoverStartedAt,
        },
        readiness: {
          processes: probes.length,
          readyBefore,
          probesDuringFailover: duringFailover.probes,
          notReadyDuringFailover: duringFailover.notReady,
          readyAfter,
        },
        effectsBeforeFailover: effectsBefore,
        effectsAfterFailover: effectsAfter.length,
        effectsAfterFailoverByExecutor: Object.values(afterByExecutor),
        warningsDuringFailover: problemsDuringFailover.length,
        warningMessages: [
          ...new Set(
            problemsDuringFailover.map((t) =>
              `${t.app}: ${String(t.line?.msg)} ${String((t.line?.err as { message?: string } | undefined)?.message ?? '')}`.trim(),
            ),
          ),
        ].slice(0, 5),
        redisConnectionErrors: linesSaying('redis connection error'),
        redisReconnects: linesSaying('redis connection ready again'),
        clusterErrorLines: clusterErrorLines.length,
        errorRepliesByServers: errorReplies,
        keysByMaster: keysByNode,
        resubmitted: submitted.resubmitted,
      },
      startedAt,
    );

    expect([...submitted.violations, ...report.violations]).toEqual([]);
    expect(report.runs.accepted).toBe(count);
    expect(report.runs.succeeded).toBe(count);
    expect(report.sink.duplicateEffects).toBe(0);
    expect(clusterErrorLines.map((t) => `${t.app}: ${t.text.slice(0, 300)}`)).toEqual([]);
    expect(errorReplies.CROSSSLOT ?? 0).toBe(0);

    expect(masterBefore).toBe(failover.from);
    expect(masterAfter).toBe(failover.to);
    expect(roles).toEqual({ promoted: 'master', demoted: 'slave' });
    expect(promoted?.role).toBe('master');
    expect(demoted?.role).toBe('replica');
    expect(demoted?.masterId).toBe(promoted?.id);
    expect(
      Object.entries(keysByNode).filter(([port, n]) => port !== String(failover.to) && n > 0),
    ).toEqual([]);

    expect(probes).toHaveLength(4);
    expect(readyBefore).toBe(probes.length);
    expect(readyAfter).toBe(probes.length);

    expect(effectsBefore).toBeGreaterThan(0);
    expect(effectsAfter.length).toBeGreaterThan(0);
    expect(executors).toHaveLength(2);
    for (const w of executors) expect(afterByExecutor[w], w).toBeGreaterThan(0);
  }, 240_000);
});
