import type { Redis } from 'ioredis';

/** Keys and bytes of one part of the fleet's Redis data. */
export interface KeyTally {
  keys: number;
  bytes: number;
  /** Of those, the keys of jobs (`<queue>:<jobId>` hashes and their `:lock`/`:logs`). */
  jobKeys: number;
  jobBytes: number;
}

/** What the fleet holds in Redis at one instant. */
export interface RedisUsage extends KeyTally {
  /** `used_memory` of the whole server (shared with whatever else runs on it: context only). */
  serverUsedBytes: number;
  /** The same tallies per queue (`agentry.plan`, …); keys under no queue go under `other`. */
  byQueue: Record<string, KeyTally>;
  /** Length of each queue's event stream (`<queue>:events`). */
  eventStreams: Record<string, number>;
}

/** agentry's job ids (`jobIds` in @agentry/schema) start with one of these. */
const jobIdStart = /^(plan|step|compensate|dl)\./;

const noKeys = (): KeyTally => ({ keys: 0, bytes: 0, jobKeys: 0, jobBytes: 0 });

/**
 * Walk every key under `prefix` (SCAN, so safe on a shared server) and weigh it with
 * `MEMORY USAGE … SAMPLES 0` (every field of a hash, every element of a set or stream),
 * pipelined 500 at a time. A key `<prefix>:<queue>:<rest>` is a job's when `<rest>` starts with
 * an agentry job id; the others are the queue's own structures (wait list, completed set, event
 * stream, meta).
 */
export async function measureRedis(
  redis: Redis,
  prefix: string,
  queues: readonly string[],
): Promise<RedisUsage> {
  const info = await redis.info('memory');
  const usage: RedisUsage = {
    serverUsedBytes: Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN),
    ...noKeys(),
    byQueue: Object.fromEntries([...queues, 'other'].map((q) => [q, noKeys()])),
    eventStreams: {},
  };
  const add = (tally: KeyTally, bytes: number, job: boolean) => {
    tally.keys += 1;
    tally.bytes += bytes;
    if (job) {
      tally.jobKeys += 1;
      tally.jobBytes += bytes;
    }
  };
  const pattern = `${prefix.replace(/([*?[\]\\])/g, '\\$1')}:*`;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (let i = 0; i < keys.length; i += 500) {
      const batch = keys.slice(i, i + 500);
      const pipeline = redis.pipeline();
      for (const key of batch) pipeline.memory('USAGE', key, 'SAMPLES', 0);
      const results = (await pipeline.exec()) ?? [];
      batch.forEach((key, j) => {
        const bytes = Number(results[j]?.[1] ?? 0); // null: the key went away meanwhile
        const rest = key.slice(prefix.length + 1);
        const queue = queues.find((q) => rest.startsWith(`${q}:`));
        const job = queue !== undefined && jobIdStart.test(rest.slice(queue.length + 1));
        add(usage, bytes, job);
        add(usage.byQueue[queue ?? 'other'] as KeyTally, bytes, job);
      });
    }
  } while (cursor !== '0');
  for (const queue of queues)
    usage.eventStreams[queue] = await redis.xlen(`${prefix}:${queue}:events`);
  return usage;
}
