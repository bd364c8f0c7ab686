import { AppError, isAppError, jobIds, queueNames, type JobPayloadInput } from '@agentry/schema';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeadLetterAdmin } from '../src/dead-letter-admin';
import { createProducer } from '../src/producer';
import { createRedisConnection } from '../src/redis-connection';
import { createWorkerRuntime } from '../src/worker-runtime';
import {
  deleteKeys,
  memoryLogger,
  MemoryDeadLetters,
  redisUrl,
  testPrefix,
  untilReady,
  waitFor,
} from './support';

const prefix = testPrefix('dlq-admin');
const connection = createRedisConnection(redisUrl, 'producer');
const producer = createProducer({ connection, prefix });
const store = new MemoryDeadLetters();
const admin = createDeadLetterAdmin({ connection, prefix, store });
const dlq = new Queue(queueNames.dlq, { connection, prefix });
const runId = '4b8e7a8e-6c3a-4d6a-9d3e-2f1a3b4c5d6e';
const step = (stepId: string): JobPayloadInput<'step'> => ({
  runId,
  stepId,
  correlationId: 'corr-a',
});
let healthy = false;
const runtime = createWorkerRuntime({
  queue: queueNames.step,
  connection: { url: redisUrl },
  prefix,
  handlers: {
    step: async (p) => {
      if (!healthy)
        throw new AppError('TOOL_FAILED', `tool down for ${p.stepId}`, { retryable: false });
      return `done ${p.stepId}`;
    },
    compensate: async () => undefined,
  },
  log: memoryLogger(),
  deadLetters: store,
});

beforeAll(async () => {
  await untilReady(connection);
  await runtime.start();
});
afterAll(async () => {
  await runtime.close({ deadlineMs: 2_000 });
  await admin.close();
  await dlq.close();
  await producer.close();
  await connection.quit();
  await deleteKeys(prefix);
});

const q = () => producer.queue(queueNames.step);
const letterFor = (jobId: string) => [...store.records.values()].find((r) => r.jobId === jobId);

describe('createDeadLetterAdmin', () => {
  it('replays a dead letter whose failed job is still in the queue (attempts reset); it then completes', async () => {
    healthy = false;
    const jobId = jobIds.step(runId, 'replay');
    await producer.enqueue('step', step('replay'), { jobId });
    await waitFor(() => letterFor(jobId) !== undefined);
    const letter = letterFor(jobId);
    await waitFor(
      async () => (await dlq.getJob(jobIds.deadLetter(letter?.id ?? ''))) !== undefined,
    );

    healthy = true;
    const result = await admin.replay(letter?.id ?? '');
    expect(result).toEqual({
      id: letter?.id,
      sourceQueue: queueNames.step,
      jobId,
      mode: 'retried',
    });
    await waitFor(async () => (await q().getJob(jobId))?.returnvalue === 'done replay');
    expect((await q().getJob(jobId))?.attemptsMade).toBe(1);
    expect(letterFor(jobId)).toMatchObject({ replayCount: 1, replayedAt: expect.any(Date) });
    expect(await dlq.getJob(jobIds.deadLetter(letter?.id ?? ''))).toBeUndefined();
    const again = await admin.replay(letter?.id ?? '').catch((e: unknown) => e);
    expect(isAppError(again) && again.code).toBe('CONFLICT');
  });

  it('adds the job again under its original id when it is gone from the queue', async () => {
    healthy = false;
    const jobId = jobIds.step(runId, 'gone');
    await producer.enqueue('step', step('gone'), { jobId });
    await waitFor(() => letterFor(jobId) !== undefined);
    await waitFor(async () => (await q().getJob(jobId))?.finishedOn !== undefined);
    await q().remove(jobId);
    healthy = true;
    const result = await admin.replay(letterFor(jobId)?.id ?? '');
    expect(result.mode).toBe('added');
    await waitFor(async () => (await q().getJob(jobId))?.returnvalue === 'done gone');
  });

  it('refuses to replay an invalid payload, with the issues', async () => {
    const jobId = 'bad.replay';
    await q().add('step', { runId: 'nope' }, { jobId });
    await waitFor(() => letterFor(jobId) !== undefined);
    const err = await admin.replay(letterFor(jobId)?.id ?? '').catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('VALIDATION');
    expect(isAppError(err) && err.details?.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'runId' })]),
    );
    const missing = await admin
      .replay('00000000-0000-4000-8000-000000000000')
      .catch((e: unknown) => e);
    expect(isAppError(missing) && missing.code).toBe('NOT_FOUND');
  });

  it('purges by id and by age from the store and the dlq queue', async () => {
    const ids = [...store.records.keys()];
    expect(ids.length).toBeGreaterThanOrEqual(3);
    const [first, ...rest] = ids;
    expect(await admin.purge({ ids: [first ?? ''] })).toBe(1);
    expect(await dlq.getJob(jobIds.deadLetter(first ?? ''))).toBeUndefined();
    expect(await admin.purge({ olderThan: new Date(Date.now() + 60_000) })).toBe(rest.length);
    expect(store.records.size).toBe(0);
    const counts = await dlq.getJobCounts('waiting', 'completed', 'failed', 'delayed');
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
  });
});
