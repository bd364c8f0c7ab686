import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAddBatcher, type PendingAdd } from '../src/add-batcher';
import { createRedisConnection } from '../src/redis-connection';
import { deleteKeys, redisUrl, testPrefix, untilReady } from './support';

const prefix = testPrefix('add-batcher');
const connection = createRedisConnection(redisUrl, 'producer');
const queues = ['agentry.plan', 'agentry.step'].map(
  (name) => new Queue(name, { connection, prefix }),
);

beforeAll(async () => {
  await untilReady(connection);
});
afterAll(async () => {
  await Promise.all(queues.map((q) => q.close()));
  await connection.quit();
  await deleteKeys(prefix);
});

/** Counts the socket writes of `connection` (a lone command, or a whole pipeline). */
function countWrites(): () => number {
  const stream = (connection as unknown as { stream: { write: (...a: unknown[]) => boolean } })
    .stream;
  const write = stream.write.bind(stream);
  let writes = 0;
  stream.write = (...args: unknown[]) => {
    writes += 1;
    return write(...args);
  };
  return () => {
    stream.write = write;
    return writes;
  };
}

const job = (q: Queue, id: string): PendingAdd => ({
  queue: q,
  name: 'x',
  data: { id },
  opts: { jobId: id, removeOnComplete: true },
  jobKey: q.toKey(id),
});

describe('createAddBatcher', () => {
  it('adds what overlaps in one batch of two writes, and tells each add whether it created its job', async () => {
    const add = createAddBatcher(connection);
    const [plan, step] = queues as [Queue, Queue];
    await plan.add('x', {}, { jobId: 'dup' });
    const stop = countWrites();
    const created = await Promise.all([
      add(job(plan, 'first')),
      // These arrive while the first is in flight: one batch, across two queues.
      add(job(plan, 'a')),
      add(job(step, 'b')),
      add(job(plan, 'dup')),
      add(job(step, 'c')),
    ]);
    const writes = stop();
    expect(created).toEqual([true, true, true, false, true]);
    // The first alone (EXISTS + add script), then EXISTS ×4 in one pipeline and one addBulk
    // pipeline per queue.
    expect(writes).toBe(2 + 3);
    expect((await step.getJob('b'))?.data).toEqual({ id: 'b' });
    expect((await plan.getJob('a'))?.opts.removeOnComplete).toBe(true);
  });

  it('fails only the add whose job BullMQ refuses; the rest of its batch is added', async () => {
    const add = createAddBatcher(connection);
    const [plan] = queues as [Queue];
    const results = await Promise.all(
      ['p1', 'p2', 'p3'].map((id) =>
        add(
          id === 'p2' ? { ...job(plan, id), opts: { jobId: id, priority: 1.5 } } : job(plan, id),
        ).then(
          (c) => `created ${c}`,
          (e: unknown) => `error ${(e as Error).message.slice(0, 20)}`,
        ),
      ),
    );
    expect(results[0]).toBe('created true');
    expect(results[1]).toMatch(/^error /);
    expect(results[2]).toBe('created true');
    expect(await plan.getJob('p3')).toBeDefined();
  });
});
