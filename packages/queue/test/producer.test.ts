import { isAppError, jobIds, queueNames } from '@agentry/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type Producer } from '../src/producer';
import { createRedisConnection } from '../src/redis-connection';
import { jitteredBackoffType } from '../src/retry-backoff';
import { deleteKeys, redisUrl, testPrefix, untilReady, validIntent } from './support';

const prefix = testPrefix('producer');
const connection = createRedisConnection(redisUrl, 'producer');
let producer: Producer;

beforeAll(async () => {
  await untilReady(connection);
  producer = createProducer({ connection, prefix });
});
afterAll(async () => {
  await producer.close();
  await producer.close(); // safe twice
  await connection.quit();
  await deleteKeys(prefix);
});

const caught = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('createProducer', () => {
  it('rejects an invalid payload with VALIDATION and the zod issues, before enqueueing', async () => {
    const err = await caught(
      producer.enqueue('plan', { intent: { text: 42, tenantId: 'acme' } } as never, {
        jobId: 'plan.bad',
      }),
    );
    expect(isAppError(err)).toBe(true);
    if (!isAppError(err)) return;
    expect(err.code).toBe('VALIDATION');
    expect(err.message).toContain('intent.text');
    expect(err.details?.issues).toEqual([expect.objectContaining({ path: 'intent.text' })]);
    expect(await producer.queue(queueNames.plan).getJob('plan.bad')).toBeUndefined();
  });

  it('rejects job ids BullMQ would refuse', async () => {
    for (const jobId of ['a:b', '123', '']) {
      const err = await caught(producer.enqueue('plan', { intent: validIntent }, { jobId }));
      expect(isAppError(err) && err.code).toBe('VALIDATION');
    }
  });

  it('enqueues with the catalog policies; a repeated id is a no-op reporting created=false', async () => {
    const runId = '0b8e7a8e-6c3a-4d6a-9d3e-2f1a3b4c5d6e';
    const jobId = jobIds.plan(runId);
    const first = await producer.enqueue('plan', { intent: validIntent, runId }, { jobId });
    const second = await producer.enqueue(
      'plan',
      { intent: { ...validIntent, text: 'something else' }, runId },
      { jobId },
    );
    expect(first).toEqual({ jobId, created: true });
    expect(second).toEqual({ jobId, created: false });

    const q = producer.queue(queueNames.plan);
    expect(await q.getJobCounts('waiting')).toEqual({ waiting: 1 });
    const job = await q.getJob(jobId);
    expect(job?.data).toMatchObject({
      intent: { text: validIntent.text, dryRun: false, metadata: {} },
    });
    expect(job?.opts).toMatchObject({
      attempts: 5,
      backoff: { type: jitteredBackoffType, delay: 1_000 },
      removeOnComplete: { age: 86_400, count: 10_000 },
      removeOnFail: { age: 14 * 86_400, count: 50_000 },
    });
  });

  it('reports created=true to exactly one of concurrent enqueues of one id', async () => {
    const runId = '4b8e7a8e-6c3a-4d6a-9d3e-2f1a3b4c5d6e';
    const jobId = jobIds.plan(runId);
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        producer.enqueue('plan', { intent: validIntent, runId }, { jobId }),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const others = Array.from({ length: 5 }, (_, i) => `5b8e7a8e-6c3a-4d6a-9d3e-2f1a3b4c5d6${i}`);
    const fresh = await Promise.all(
      others.map((id) =>
        producer.enqueue('plan', { intent: validIntent, runId: id }, { jobId: jobIds.plan(id) }),
      ),
    );
    expect(fresh.every((r) => r.created)).toBe(true);
  });

  it('lets a call override attempts and delay', async () => {
    const runId = '1b8e7a8e-6c3a-4d6a-9d3e-2f1a3b4c5d6e';
    const jobId = jobIds.step(runId, 'deploy');
    await producer.enqueue(
      'step',
      { runId, stepId: 'deploy', correlationId: 'c-1' },
      { jobId, attempts: 7, delayMs: 60_000 },
    );
    const job = await producer.queue(queueNames.step).getJob(jobId);
    expect(job?.opts.attempts).toBe(7);
    expect(await job?.getState()).toBe('delayed');
  });

  it('fails fast with UNAVAILABLE when Redis cannot be reached', async () => {
    const down = createRedisConnection('redis://127.0.0.1:1', 'producer');
    const p = createProducer({ connection: down, prefix });
    try {
      for (let i = 0; i < 2; i += 1) {
        const started = Date.now();
        const err = await caught(
          p.enqueue('plan', { intent: validIntent }, { jobId: `plan.down-${i}` }),
        );
        expect(isAppError(err) && err.code).toBe('UNAVAILABLE');
        expect(Date.now() - started).toBeLessThan(2_500);
      }
    } finally {
      await p.close();
      down.disconnect();
    }
  });
});
