import { Worker, type Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { masterServers, type RedisClient } from './redis-client';
import { createRedisConnection, type RedisEndpoint } from './redis-connection';

/**
 * Test helpers shared by every package's integration tests (imported as `@agentry/queue/testing`,
 * never by production code).
 */

/** A short-lived client for a test's own reads: one retry, no offline queue past a 5 s connect. */
export function openTestRedis(endpoint: RedisEndpoint): RedisClient {
  if (typeof endpoint === 'string') return new Redis(endpoint, { maxRetriesPerRequest: 1 });
  return createRedisConnection(endpoint, 'worker', { connectTimeoutMs: 5_000 });
}

/** Resolve once `client` is ready (a Cluster: its slots are known); reject after `timeoutMs`. */
export async function whenReady(client: RedisClient, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`redis not ready within ${timeoutMs} ms (${client.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

/**
 * Every key matching `pattern`, page by page: SCAN on the server, or on each master of a Redis
 * Cluster (a Cluster's SCAN would only walk the one node it is sent to).
 */
export async function* scanKeys(client: RedisClient, pattern: string): AsyncGenerator<string[]> {
  for (const server of masterServers(client)) {
    let cursor = '0';
    do {
      const [next, keys] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}

/** The SCAN pattern of every key under `prefix` (glob characters in it escaped). */
export const prefixPattern = (prefix: string): string =>
  `${prefix.replace(/([*?[\]\\])/g, '\\$1')}*`;

/**
 * Delete every Redis key under a prefix (SCAN + DEL, so it is safe on a shared server). On a
 * Redis Cluster every master is scanned and each key deleted on its own (keys of other slots may
 * share a node, and one DEL of keys of several slots is refused with CROSSSLOT).
 */
export async function deleteKeys(
  prefix: string,
  endpoint: RedisEndpoint = 'redis://127.0.0.1:6379',
): Promise<void> {
  const redis = openTestRedis(endpoint);
  try {
    if (typeof endpoint !== 'string') await whenReady(redis); // a Cluster knows its masters once ready
    for await (const keys of scanKeys(redis, prefixPattern(prefix))) {
      if (typeof endpoint === 'string') await redis.del(...keys);
      else await Promise.all(keys.map((key) => redis.unlink(key)));
    }
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** Poll every 25 ms until `check` holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Take the job `jobId` of `queue` and finish it as `outcome` without running anything: the state
 * a worker leaves behind, for tests of what reads it afterwards. Throws when the job is not the
 * next one waiting (add it with `lifo: true` to a queue that has others).
 */
export async function finishJob(
  queue: Queue,
  jobId: string,
  outcome: 'completed' | 'failed',
): Promise<void> {
  // The queue's own connection (one Redis server; a Cluster's duplicate takes other arguments).
  const connection = (queue.opts.connection as Redis).duplicate({ maxRetriesPerRequest: null });
  const worker = new Worker(queue.name, null, {
    connection,
    prefix: queue.opts.prefix,
    autorun: false,
  });
  try {
    const token = `finish-${jobId}`;
    const job = await worker.getNextJob(token);
    if (job?.id !== jobId)
      throw new Error(`job ${jobId} is not the next waiting job of ${queue.name}`);
    if (outcome === 'completed') await job.moveToCompleted('finished by a test', token, false);
    else await job.moveToFailed(new Error('failed by a test'), token, false);
  } finally {
    await worker.close();
    connection.disconnect();
  }
}
