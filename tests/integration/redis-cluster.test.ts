import { randomBytes } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@agentry/db/testing';
import {
  announceCancel,
  checkRedis,
  createProducer,
  createQueueDepthCollector,
  createRedisConnection,
  createWorkerRuntime,
  duplicateConnection,
  isCluster,
  listenForCancels,
  redisEndpoint,
  redisKeyPrefix,
  serverOf,
  type RedisClient,
} from '@agentry/queue';
import { deleteKeys, scanKeys, waitFor, whenReady } from '@agentry/queue/testing';
import { commonEnv, parseEnv, queueNames, toCommonConfig } from '@agentry/schema';
import { runCli } from '../../apps/cli/test/support/cli-fleet';
import { memoryLogger, MemoryDeadLetters } from '../../packages/queue/test/support';
import { RedisCluster } from '../chaos/support/redis-cluster';

const databaseUrl =
  process.env.AGENTRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const runId = '2b8e7a8e-6c3a-4d6a-9d3e-2f1a3b4c5d6e';

/**
 * The queue layer on a real Redis Cluster (three masters on 127.0.0.1:7101-7103, no replicas:
 * chaos scenario 11 covers failover): configured by `AGENTRY_REDIS_CLUSTER_NODES`, producing,
 * working, pub/sub, readiness, the doctor, and the test helpers that must scan every master.
 */
describe('Redis Cluster', () => {
  let cluster: RedisCluster;
  let database: TestDatabase;
  const base = `t-cluster-${randomBytes(4).toString('hex')}`;
  const prefix = redisKeyPrefix(base);
  const env = (): Record<string, string> => ({
    AGENTRY_ENV: 'test',
    AGENTRY_REDIS_CLUSTER_NODES: cluster.seeds,
    AGENTRY_QUEUE_PREFIX: base,
    DATABASE_URL: databaseUrl,
    AGENTRY_DB_SCHEMA: database.schema,
  });
  const open: RedisClient[] = [];
  const connect = (role: 'producer' | 'worker'): Cluster => {
    const config = toCommonConfig(parseEnv(commonEnv, env()));
    const endpoint = redisEndpoint(config);
    if (typeof endpoint === 'string') throw new Error('expected a cluster endpoint');
    const client = createRedisConnection(endpoint, role, { name: `test-${role}` });
    open.push(client);
    return client;
  };

  beforeAll(async () => {
    [cluster, database] = await Promise.all([
      RedisCluster.create({ replicas: 0 }),
      createTestDatabase({ prefix: 't_cluster' }),
    ]);
  }, 90_000);
  afterAll(async () => {
    for (const c of open) c.disconnect();
    await database?.close();
    await cluster?.close();
  });

  it('reads AGENTRY_REDIS_CLUSTER_NODES into a Cluster client that checks every master', async () => {
    const producer = connect('producer');
    expect(isCluster(producer)).toBe(true);
    await whenReady(producer);
    const check = await checkRedis(producer, { production: true });
    expect(check).toMatchObject({ ok: true, maxmemoryPolicy: 'noeviction', problems: [] });
    expect(check.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('enqueues and works jobs on the cluster, every key in the slot of the prefix', async () => {
    const producerConnection = connect('producer');
    await whenReady(producerConnection);
    const producer = createProducer({ connection: producerConnection, prefix });
    const store = new MemoryDeadLetters();
    const ran: string[] = [];
    const runtime = createWorkerRuntime({
      queue: queueNames.step,
      connection: { url: redisEndpoint(toCommonConfig(parseEnv(commonEnv, env()))) },
      prefix,
      handlers: {
        step: async (payload) => {
          ran.push(payload.stepId);
          return { ok: true };
        },
        compensate: async () => undefined,
      },
      log: memoryLogger(),
      deadLetters: store,
      lockDurationMs: 2_000,
      stalledIntervalMs: 1_000,
    });
    await runtime.start();
    try {
      for (const stepId of ['a', 'b', 'c'])
        await producer.enqueue(
          'step',
          { runId, stepId, correlationId: 'c' },
          { jobId: `cluster-${stepId}` },
        );
      const again = await producer.enqueue(
        'step',
        { runId, stepId: 'a', correlationId: 'c' },
        { jobId: 'cluster-a' },
      );
      expect(again.created).toBe(false);
      await waitFor(() => ran.length === 3, 15_000, 'three steps run');
      await runtime.ready();
      expect(ran.sort()).toEqual(['a', 'b', 'c']);

      const depths: Record<string, Record<string, number>> = {};
      const collector = createQueueDepthCollector({
        connection: producerConnection,
        prefix,
        queues: [queueNames.step],
        sink: (queue, counts) => (depths[queue] = counts),
      });
      await collector.collectOnce();
      await collector.close();
      expect(depths[queueNames.step]).toMatchObject({ waiting: 0, active: 0 });

      // All of the prefix's keys are on the master of its slot, none on the others.
      const home = await serverOf(producerConnection, `${prefix}:x`);
      const slot = await cluster.slotOf(`${prefix}:x`);
      expect(home.options.port).toBe(await cluster.masterOf(slot));
      const keysOn: Record<string, number> = {};
      for (const port of cluster.ports)
        keysOn[port] = ((await cluster.command(port, 'KEYS', `${prefix}*`)) as string[]).length;
      expect(keysOn[String(home.options.port)]).toBeGreaterThan(0);
      expect(Object.values(keysOn).filter((n) => n > 0)).toHaveLength(1);
    } finally {
      await runtime.close({ deadlineMs: 5_000 });
      await producer.close();
      await deleteKeys(prefix, { nodes: [{ host: '127.0.0.1', port: 7101 }] });
    }
  });

  it('announces cancellations through a duplicated subscriber', async () => {
    const producer = connect('producer');
    await whenReady(producer);
    const listener = listenForCancels(duplicateConnection(producer, 'test-cancels'), prefix);
    try {
      const { signal, release } = listener.watch(runId);
      await waitFor(
        async () => (await announceCancel(producer, prefix, runId)) > 0,
        10_000,
        'a subscriber',
      );
      await waitFor(() => signal.aborted, 5_000, 'the cancel');
      release();
    } finally {
      await listener.close();
    }
  });

  it('deletes keys under a prefix on every master (SCAN per node, no CROSSSLOT)', async () => {
    const worker = connect('worker');
    await whenReady(worker);
    const loose = `t-cluster-loose-${randomBytes(4).toString('hex')}:`;
    const keys = Array.from({ length: 60 }, (_, i) => `${loose}${i}`);
    await Promise.all(keys.map((k) => worker.set(k, 'v')));
    const slots = new Set(await Promise.all(keys.slice(0, 10).map((k) => cluster.slotOf(k))));
    expect(slots.size).toBeGreaterThan(1);
    const found = async () => {
      const all: string[] = [];
      for await (const page of scanKeys(worker, `${loose}*`)) all.push(...page);
      return all;
    };
    expect((await found()).sort()).toEqual([...keys].sort());
    await deleteKeys(loose, { nodes: cluster.ports.map((port) => ({ host: '127.0.0.1', port })) });
    expect(await found()).toEqual([]);
  });

  it('agentry doctor checks each master', async () => {
    const { out, exitCode } = await runCli(['doctor'], env());
    const line = (check: string) => out.split('\n').find((l) => l.split(/\s+/)[1] === check) ?? '';
    expect(line('redis')).toMatch(
      /^PASS {2}redis\s+Redis \d+\.\d+\.\d+ at cluster 127\.0\.0\.1:7101,127\.0\.0\.1:7102,127\.0\.0\.1:7103 \(all 3 masters\)$/,
    );
    expect(line('redis.eviction')).toMatch(
      /^PASS .*maxmemory-policy noeviction \(all 3 masters\)$/,
    );
    expect(line('redis.persistence')).toMatch(/^WARN .*no persistence/);
    expect(line('queue:agentry.step')).toMatch(/no worker connected/);
    expect(exitCode).toBe(0);
  });

  // Last: it leaves a password on the nodes.
  it('follows a rotated password on every node connection, duplicates included', async () => {
    let stored = 'cluster-pw-1';
    let presented = stored;
    let reloads = 0;
    const auth = {
      current: () => presented,
      rejected: async () => {
        reloads += 1;
        presented = stored;
      },
    };
    for (const port of cluster.ports)
      await cluster.command(port, 'CONFIG', 'SET', 'requirepass', stored);
    cluster.password = stored;
    const endpoint = { nodes: cluster.ports.map((port) => ({ host: '127.0.0.1', port })) };
    const client = createRedisConnection(endpoint, 'worker', { auth, name: 'test-rotation' });
    open.push(client);
    await whenReady(client);
    const copy = duplicateConnection(client, 'test-rotation-copy');
    open.push(copy);
    await whenReady(copy);
    const keys = ['{a}rot', '{b}rot', '{c}rot'];
    for (const key of keys) await client.set(key, '1');

    stored = 'cluster-pw-2';
    for (const port of cluster.ports)
      await cluster.command(port, 'CONFIG', 'SET', 'requirepass', stored);
    cluster.password = stored;
    // Every client reconnects, and must now present the new password.
    for (const port of cluster.ports)
      await cluster.command(port, 'CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await waitFor(
      async () => {
        const values = await Promise.all(
          [client, copy].flatMap((c) => keys.map((k) => c.get(k).catch(() => null))),
        );
        return values.every((v) => v === '1');
      },
      20_000,
      'both clients to read every node with the new password',
    );
    expect(reloads).toBeGreaterThanOrEqual(1);
    expect(presented).toBe('cluster-pw-2');
  });
});
