import { jobIds, queueNames, type JobPayloadInput } from '@agentry/schema';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createProducer } from '../src/producer';
import { createRedisConnection } from '../src/redis-connection';
import { createWorkerRuntime, type WorkerRuntimeOptions } from '../src/worker-runtime';
import {
  deleteKeys,
  memoryLogger,
  MemoryDeadLetters,
  redisUrl,
  testPrefix,
  untilReady,
  waitFor,
} from './support';

const prefix = testPrefix('drain');
const connection = createRedisConnection(redisUrl, 'producer');
const producer = createProducer({ connection, prefix });
const store = new MemoryDeadLetters();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
afterAll(async () => {
  await producer.close();
  await connection.quit();
  await deleteKeys(prefix);
});

const runId = '3b8e7a8e-6c3a-4d6a-9d3e-2f1a3b4c5d6e';
const step = (stepId: string): JobPayloadInput<'step'> => ({
  runId,
  stepId,
  correlationId: 'corr-d',
});
type Handlers = WorkerRuntimeOptions<'agentry.step'>['handlers'];

function runtime(handlers: Handlers, drained: { durationMs: number; cancelled: number }[] = []) {
  const r = createWorkerRuntime({
    queue: queueNames.step,
    connection: { url: redisUrl },
    prefix,
    handlers,
    log: memoryLogger(),
    deadLetters: store,
    observer: { drained: (e) => drained.push(e) },
    lockDurationMs: 2_000,
    stalledIntervalMs: 1_000,
  });
  cleanups.push(() => r.close({ deadlineMs: 1_000 }));
  return r;
}

const until = (signal: AbortSignal, ms: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve('done'), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    });
  });

describe('WorkerRuntime.close', () => {
  it('lets an in-flight job finish within the deadline', async () => {
    await untilReady(connection);
    let started = false;
    const drained: { durationMs: number; cancelled: number }[] = [];
    const r = runtime(
      {
        step: async (_p, ctx) => {
          started = true;
          return until(ctx.signal, 300);
        },
        compensate: async () => undefined,
      },
      drained,
    );
    await r.start();
    const jobId = jobIds.step(runId, 'finish');
    await producer.enqueue('step', step('finish'), { jobId });
    await waitFor(() => started);
    await r.close({ deadlineMs: 3_000 });
    expect(r.isRunning()).toBe(false);
    expect(
      await producer
        .queue(queueNames.step)
        .getJob(jobId)
        .then((j) => j?.returnvalue),
    ).toBe('done');
    expect(drained).toEqual([expect.objectContaining({ cancelled: 0 })]);
    await r.close({ deadlineMs: 3_000 }); // safe twice
    await expect(r.ready()).rejects.toThrow(/not running/);
  });

  it('cancels a job past the deadline without failing it or using an attempt; the next worker re-runs it', async () => {
    const runs: { worker: string; attempt: number; reason?: unknown }[] = [];
    const drained: { durationMs: number; cancelled: number }[] = [];
    const first = runtime(
      {
        step: async (_p, ctx) => {
          runs.push({ worker: 'first', attempt: ctx.attempt });
          try {
            return await until(ctx.signal, 60_000);
          } catch (err) {
            runs.push({ worker: 'first', attempt: ctx.attempt, reason: ctx.signal.reason });
            throw err;
          }
        },
        compensate: async () => undefined,
      },
      drained,
    );
    await first.start();
    const jobId = jobIds.step(runId, 'cancel');
    await producer.enqueue('step', step('cancel'), { jobId });
    await waitFor(() => runs.length === 1);
    const t0 = Date.now();
    await first.close({ deadlineMs: 600, graceMs: 300 });
    expect(Date.now() - t0).toBeLessThan(1_500);
    expect(drained).toEqual([expect.objectContaining({ cancelled: 1 })]);
    expect(runs[1]?.reason).toMatchObject({ code: 'CANCELLED', details: { shutdown: true } });
    const q = producer.queue(queueNames.step);
    const job = await q.getJob(jobId);
    expect(await job?.getState()).toBe('waiting');
    expect(job?.attemptsMade).toBe(0);

    const second = runtime({
      step: async (_p, ctx) => {
        runs.push({ worker: 'second', attempt: ctx.attempt });
        return 'rerun';
      },
      compensate: async () => undefined,
    });
    await second.start();
    await waitFor(async () => (await q.getJob(jobId))?.returnvalue === 'rerun');
    expect(runs.at(-1)).toEqual({ worker: 'second', attempt: 1 });
    expect(store.records.size).toBe(0);
  });

  it('hands back a job whose handler ignores cancellation, then force-closes by the deadline', async () => {
    let started = false;
    const r = runtime({
      step: () => {
        started = true;
        return new Promise(() => undefined);
      },
      compensate: async () => undefined,
    });
    await r.start();
    const jobId = jobIds.step(runId, 'stuck');
    await producer.enqueue('step', step('stuck'), { jobId });
    await waitFor(() => started);
    const t0 = Date.now();
    await r.close({ deadlineMs: 500, graceMs: 200 });
    expect(Date.now() - t0).toBeLessThan(1_500);
    const job = await producer.queue(queueNames.step).getJob(jobId);
    expect(await job?.getState()).toBe('waiting');
    expect(job?.attemptsMade).toBe(0);
    await producer.queue(queueNames.step).remove(jobId);
  });

  it('supports await using', async () => {
    {
      await using r = runtime({ step: async () => 1, compensate: async () => undefined });
      await r.start();
      expect(r.isRunning()).toBe(true);
    }
  });
});
