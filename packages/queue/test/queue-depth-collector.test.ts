import { queueNames } from '@agentry/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { createProducer } from '../src/producer';
import { createQueueDepthCollector } from '../src/queue-depth-collector';
import { createRedisConnection } from '../src/redis-connection';
import { redisKeyPrefix } from '../src/redis-key-prefix';
import { deleteKeys, redisUrl, testPrefix, untilReady, validIntent, waitFor } from './support';

const prefix = testPrefix('depth');
const connection = createRedisConnection(redisUrl, 'producer');
afterAll(async () => {
  await connection.quit();
  await deleteKeys(prefix);
});

describe('createQueueDepthCollector', () => {
  it('reports counts per state and the age of the oldest waiting job, without a worker', async () => {
    await untilReady(connection);
    let now = Date.now();
    const producer = createProducer({ connection, prefix, clock: () => now });
    await producer.enqueue('plan', { intent: validIntent }, { jobId: 'plan.one' });
    now += 5_000;
    await producer.enqueue('plan', { intent: validIntent }, { jobId: 'plan.two' });
    await producer.enqueue(
      'plan',
      { intent: validIntent },
      { jobId: 'plan.later', delayMs: 60_000 },
    );
    await producer.enqueue('plan', { intent: validIntent }, { jobId: 'plan.urgent', priority: 1 });
    const bullmqCounts = await producer
      .queue(queueNames.plan)
      .getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed', 'completed');
    await producer.close();

    const seen = new Map<string, { counts: Record<string, number>; age: number }>();
    const collector = createQueueDepthCollector({
      connection,
      prefix,
      queues: [queueNames.plan, queueNames.step],
      intervalMs: 50,
      clock: () => now + 1_000,
      sink: (queue, counts, age) => seen.set(queue, { counts, age }),
    });
    collector.start();
    await waitFor(() => seen.size === 2);
    await collector.close();
    await collector.close();
    expect(seen.get(queueNames.plan)).toEqual({
      counts: {
        waiting: 2,
        prioritized: 1,
        delayed: 1,
        active: 0,
        failed: 0,
        completed: 0,
        paused: 0,
        'waiting-children': 0,
      },
      age: 6,
    });
    // The same numbers BullMQ itself reports, prioritized and delayed jobs included.
    expect(seen.get(queueNames.plan)?.counts).toMatchObject(bullmqCounts);
    expect(bullmqCounts).toMatchObject({ waiting: 2, prioritized: 1, delayed: 1 });
    expect(seen.get(queueNames.step)?.age).toBe(0);
  });
});

describe('redisKeyPrefix', () => {
  it('wraps the base in a hash tag', () => {
    expect(redisKeyPrefix()).toBe('{agentry}');
    expect(redisKeyPrefix('blue')).toBe('{blue}');
    expect(() => redisKeyPrefix('a:b')).toThrow();
  });
});
