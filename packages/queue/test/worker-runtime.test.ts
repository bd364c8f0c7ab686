import { AppError, databaseUnavailable, jobIds, queueNames } from '@agentry/schema';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { JobContext } from '../src/job-context';
import { postponementDelayMs } from '../src/job-runner';
import { createWorkerRuntime } from '../src/worker-runtime';
import { memoryLogger, MemoryDeadLetters, redisUrl, waitFor } from './support';
import { noCompensate, runId, step, useWorkerHarness } from './worker-harness';

const { setup, closeAfter } = useWorkerHarness();

describe('createWorkerRuntime', () => {
  it('runs the handler with a typed payload and context; its result is the return value', async () => {
    const seen: JobContext[] = [];
    const t = await setup({
      step: async (payload, ctx) => {
        seen.push(ctx);
        return { ran: payload.stepId };
      },
      compensate: noCompensate,
    });
    await t.runtime.start();
    expect(t.runtime.isRunning()).toBe(true);
    await t.runtime.ready();
    const jobId = jobIds.step(runId, 'a');
    await t.producer.enqueue('step', step('a'), { jobId });
    const q = t.producer.queue(queueNames.step);
    await waitFor(async () => (await q.getJob(jobId))?.finishedOn !== undefined);
    expect((await q.getJob(jobId))?.returnvalue).toEqual({ ran: 'a' });
    expect(seen[0]).toMatchObject({
      jobId,
      queue: queueNames.step,
      name: 'step',
      attempt: 1,
      maxAttempts: 3,
      isFinalAttempt: false,
    });
    expect(seen[0]?.signal.aborted).toBe(false);
    seen[0]?.log.info({}, 'hello');
    expect(t.log.lines.find((l) => l.msg === 'hello')?.obj).toMatchObject({
      jobId,
      attempt: 1,
      runId,
      stepId: 'a',
      correlationId: 'corr-1',
    });
    expect(t.finished).toEqual([
      expect.objectContaining({ outcome: 'completed', attempts: 1, job: 'step' }),
    ]);
  });

  it('retries a retryable failure with backoff; attempt 2 succeeds', async () => {
    const attempts: number[] = [];
    const t = await setup({
      step: async (_p, ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) throw new AppError('TRANSIENT', 'flaky');
        return 'ok';
      },
      compensate: noCompensate,
    });
    await t.runtime.start();
    const jobId = jobIds.step(runId, 'b');
    await t.producer.enqueue('step', step('b'), { jobId });
    const q = t.producer.queue(queueNames.step);
    await waitFor(async () => (await q.getJob(jobId))?.returnvalue === 'ok', 5_000);
    expect(attempts).toEqual([1, 2]);
    expect(t.finished.map((e) => e.outcome)).toEqual(['retried', 'completed']);
    expect(t.store.records.size).toBe(0);
  });

  it('dead-letters a fatal AppError after one attempt as UnrecoverableError', async () => {
    let calls = 0;
    const t = await setup({
      step: async () => {
        calls += 1;
        throw new AppError('POLICY_DENIED', 'tool not allowed');
      },
      compensate: noCompensate,
    });
    await t.runtime.start();
    const jobId = jobIds.step(runId, 'c');
    await t.producer.enqueue('step', step('c'), { jobId });
    await waitFor(() => t.failedForGood.length === 1);
    const q = t.producer.queue(queueNames.step);
    await waitFor(async () => (await q.getJob(jobId))?.failedReason !== undefined);
    const job = await q.getJob(jobId);
    expect(calls).toBe(1);
    expect(job?.failedReason).toBe('[POLICY_DENIED] tool not allowed');
    expect(job?.attemptsMade).toBe(1);
    const [letter] = [...t.store.records.values()];
    expect(letter).toMatchObject({
      sourceQueue: queueNames.step,
      jobId,
      jobName: 'step',
      errorCode: 'POLICY_DENIED',
      attempts: 1,
      runId,
      stepId: 'c',
      correlationId: 'corr-1',
      reason: 'tool not allowed',
    });
    expect(t.failedForGood[0]).toMatchObject({
      kind: 'step',
      jobId,
      errorCode: 'POLICY_DENIED',
      attempts: 1,
      payload: step('c'),
      deadLetterId: letter?.id,
    });
    const dlq = new Queue(queueNames.dlq, { connection: t.connection, prefix: t.prefix });
    closeAfter(() => dlq.close());
    const entry = await dlq.getJob(jobIds.deadLetter(letter?.id ?? ''));
    expect(entry?.name).toBe('dead-letter');
    expect(entry?.data).toMatchObject({
      deadLetterId: letter?.id,
      sourceQueue: queueNames.step,
      jobId,
      errorCode: 'POLICY_DENIED',
      runId,
    });
    expect(t.finished.map((e) => e.outcome)).toEqual(['dead_lettered']);
  });

  it('dead-letters once when retries are exhausted', async () => {
    const t = await setup({
      step: async () => {
        throw new Error('boom');
      },
      compensate: noCompensate,
    });
    await t.runtime.start();
    const jobId = jobIds.step(runId, 'd');
    await t.producer.enqueue('step', step('d'), { jobId, attempts: 2 });
    await waitFor(() => t.failedForGood.length === 1, 5_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(t.store.captures).toBe(1);
    expect([...t.store.records.values()][0]).toMatchObject({
      jobId,
      attempts: 2,
      errorCode: 'INTERNAL',
      reason: 'boom',
    });
    expect(t.finished.map((e) => e.outcome)).toEqual(['retried', 'dead_lettered']);
  });

  it('dead-letters unknown names and malformed payloads of any shape without retrying, and keeps going', async () => {
    const handled: string[] = [];
    const t = await setup({
      step: async (p) => void handled.push(p.stepId),
      compensate: noCompensate,
    });
    const q = t.producer.queue(queueNames.step);
    const bad: [string, unknown][] = [
      ['step', 'just a string'],
      ['step', null],
      ['step', [1, 2, 3]],
      ['step', { runId: 'not-a-uuid', stepId: 42 }],
      ['step', { ...step('x'), huge: 'x'.repeat(200_000) }],
      ['no-such-job', step('y')],
    ];
    for (const [i, [name, data]] of bad.entries())
      await q.add(name, data, { jobId: `bad.${i}`, attempts: 3 });
    await q.add('step', step('good'), { jobId: 'good.1' });
    await t.runtime.start();
    await waitFor(() => handled.includes('good') && t.failedForGood.length === bad.length, 5_000);
    const letters = [...t.store.records.values()];
    expect(letters).toHaveLength(bad.length);
    for (const l of letters) expect(l).toMatchObject({ errorCode: 'VALIDATION', attempts: 1 });
    expect(letters.find((l) => l.jobId === 'bad.3')?.reason).toMatch(
      /^invalid payload: runId: .*; stepId: Invalid input: expected string/,
    );
    expect(letters.find((l) => l.jobId === 'bad.1')?.reason).toBe(
      'invalid payload: Invalid input: expected object, received null',
    );
    expect(letters.find((l) => l.jobId === 'bad.5')?.reason).toBe(
      'unknown job name "no-such-job" on queue agentry.step',
    );
    expect(letters.find((l) => l.jobId === 'bad.0')?.payload).toBe('just a string');
    expect(t.failedForGood.every((f) => f.payload === undefined)).toBe(true);
    expect((await q.getJob('bad.3'))?.failedReason).toMatch(/^\[VALIDATION\] invalid payload/);
    expect(t.finished.filter((e) => e.outcome === 'invalid')).toHaveLength(bad.length);
  });

  it('dead-letters a job whose Redis hash holds data that is not JSON, and keeps going', async () => {
    const handled: string[] = [];
    const t = await setup({
      step: async (p) => void handled.push(p.stepId),
      compensate: noCompensate,
    });
    const q = t.producer.queue(queueNames.step);
    // A producer that writes BullMQ's hash itself and gets it wrong (BullMQ's own fetch throws).
    await q.add('step', step('raw-1'), { jobId: 'raw.1' });
    await q.add('step', step('raw-2'), { jobId: 'raw.2' });
    await q.add('step', step('good'), { jobId: 'good.2' });
    const redis = new Redis(redisUrl);
    await redis.hset(`${t.prefix}:${queueNames.step}:raw.1`, 'data', 'not json{');
    await redis.hset(`${t.prefix}:${queueNames.step}:raw.2`, 'data', `{"a":"${'x'.repeat(20_000)}`);
    await redis.quit();
    await t.runtime.start();
    await waitFor(() => handled.includes('good') && t.failedForGood.length === 2, 5_000);
    const letters = [...t.store.records.values()];
    const raw1 = letters.find((l) => l.jobId === 'raw.1');
    expect(raw1).toMatchObject({ errorCode: 'VALIDATION', attempts: 1 });
    expect(raw1?.reason).toMatch(/^job data is not JSON: .*not valid JSON/);
    // Kept for inspection: the raw text is in the dead letter (a long one cut at 16 KiB).
    expect(raw1?.payload).toMatchObject({
      'agentry.unreadableJobData': { raw: 'not json{', truncated: false },
    });
    const raw2 = letters.find((l) => l.jobId === 'raw.2')?.payload as {
      'agentry.unreadableJobData': { raw: string; truncated: boolean };
    };
    expect(raw2['agentry.unreadableJobData']).toMatchObject({ truncated: true });
    expect(raw2['agentry.unreadableJobData'].raw).toHaveLength(16_384);
    expect(handled).toEqual(['good']);
    // The failed jobs read back like any other (Bull Board, the CLI).
    expect((await q.getJob('raw.1'))?.failedReason).toMatch(/^\[VALIDATION\] job data/);
    expect((await q.getJobs(['failed'])).map((j) => j.id).sort()).toEqual(['raw.1', 'raw.2']);
  });

  it('dead-letters a job that stalled more than allowed without running the handler', async () => {
    let calls = 0;
    const t = await setup(
      {
        step: async () => void (calls += 1),
        compensate: noCompensate,
      },
      { maxStalledCount: 0, stalledIntervalMs: 300, lockDurationMs: 1_000 },
    );
    const jobId = jobIds.step(runId, 's');
    await t.producer.enqueue('step', step('s'), { jobId });
    // A worker takes the job and dies: its lock (500 ms) is never renewed.
    const dead = new Worker(queueNames.step, null, {
      connection: { url: redisUrl },
      prefix: t.prefix,
      lockDuration: 500,
      autorun: false,
    });
    const taken = await dead.getNextJob('dead-worker-token');
    expect(taken?.id).toBe(jobId);
    await dead.close();

    await t.runtime.start();
    await waitFor(() => t.failedForGood.length === 1, 8_000, 'stalled job dead-lettered');
    expect(calls).toBe(0);
    expect([...t.store.records.values()][0]).toMatchObject({
      jobId,
      errorCode: 'INTERNAL',
      reason: 'job stalled more than allowable limit',
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(t.store.captures).toBe(1);
  });

  it('records nothing for a superseded delivery: no failure, no retry, no dead letter', async () => {
    const deliveries: number[] = [];
    const t = await setup(
      {
        step: async (_p, ctx) => {
          deliveries.push(ctx.attempt);
          // The first delivery learns (from Postgres, in the executor) that another worker owns
          // its step now.
          if (deliveries.length === 1) throw ctx.superseded('step re-claimed by another worker');
          return 'ok';
        },
        compensate: noCompensate,
      },
      { lockDurationMs: 500, stalledIntervalMs: 300, maxStalledCount: 3 },
    );
    await t.runtime.start();
    const jobId = jobIds.step(runId, 'x');
    await t.producer.enqueue('step', step('x'), { jobId });
    const q = t.producer.queue(queueNames.step);
    // Left active after the first delivery; only the stalled checker hands it on.
    await waitFor(() => deliveries.length === 1, 5_000, 'first delivery');
    await new Promise((r) => setTimeout(r, 100));
    const left = await q.getJob(jobId);
    expect(left?.failedReason).toBeFalsy();
    expect(left?.attemptsMade).toBe(0);
    expect(await left?.getState()).toBe('active');
    await waitFor(async () => (await q.getJob(jobId))?.returnvalue === 'ok', 10_000, 'redelivery');
    expect(deliveries).toEqual([1, 1]);
    expect(t.finished.map((e) => e.outcome)).toEqual(['completed']);
    expect(t.store.records.size).toBe(0);
    expect(t.log.lines.map((l) => l.msg)).toContain(
      'job lock lost, leaving it to the stalled checker',
    );
  });

  it('does not count a completion Redis could not record as a failure: the redelivery completes it', async () => {
    const deliveries: number[] = [];
    const t = await setup(
      {
        step: async (_p, ctx) => {
          deliveries.push(ctx.attempt);
          // Redis loses the job's lock while the handler runs (a restart, the lock lapsed):
          // recording the completion fails ("Missing lock"), though the work is done.
          if (deliveries.length === 1)
            await t.connection.del(`${t.prefix}:${queueNames.step}:${ctx.jobId}:lock`);
          return 'ok';
        },
        compensate: noCompensate,
      },
      { lockDurationMs: 500, stalledIntervalMs: 300, maxStalledCount: 3 },
    );
    await t.runtime.start();
    const jobId = jobIds.step(runId, 'lost');
    await t.producer.enqueue('step', step('lost'), { jobId });
    const q = t.producer.queue(queueNames.step);
    await waitFor(async () => (await q.getJob(jobId))?.returnvalue === 'ok', 10_000, 'redelivery');
    // No attempt used, nothing retried or dead-lettered: the stalled checker handed it back.
    expect(deliveries).toEqual([1, 1]);
    expect(t.finished.map((e) => e.outcome)).toEqual(['completed', 'completed']);
    expect(t.store.records.size).toBe(0);
    const line = t.log.lines.find((l) => l.msg?.startsWith('job outcome not recorded by Redis'));
    expect(line?.level).toBe('warn');
    expect(line?.obj).toMatchObject({ jobId, outcome: 'completion' });
    expect(t.log.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('leaves the job for redelivery when the store is down, and captures it once it is back', async () => {
    const t = await setup(
      {
        step: async () => {
          throw new AppError('CONFLICT', 'nope');
        },
        compensate: noCompensate,
      },
      { lockDurationMs: 500, stalledIntervalMs: 300, maxStalledCount: 5 },
    );
    t.store.failNext = 3; // the first capture and its two quick retries fail
    await t.runtime.start();
    const jobId = jobIds.step(runId, 'r');
    await t.producer.enqueue('step', step('r'), { jobId });
    await waitFor(() => t.failedForGood.length === 1, 10_000, 'capture after redelivery');
    expect(t.store.records.size).toBe(1);
    expect(t.finished.map((e) => e.outcome)).toEqual(['failed', 'dead_lettered']);
  });

  it('postpones a job while the database is unavailable, without using an attempt', async () => {
    const deliveries: number[] = [];
    const t = await setup({
      step: async (_p, ctx) => {
        deliveries.push(ctx.attempt);
        if (deliveries.length <= 2) throw databaseUnavailable(new Error('connect ECONNREFUSED'));
        return 'ok';
      },
      compensate: noCompensate,
    });
    await t.runtime.start();
    const jobId = jobIds.step(runId, 'db');
    await t.producer.enqueue('step', step('db'), { jobId });
    const q = t.producer.queue(queueNames.step);
    await waitFor(async () => (await q.getJob(jobId))?.returnvalue === 'ok', 10_000, 'third try');
    // Every delivery is still attempt 1 of 3: the outage was not the job's fault.
    expect(deliveries).toEqual([1, 1, 1]);
    expect(t.finished.map((e) => e.outcome)).toEqual(['postponed', 'postponed', 'completed']);
    expect(t.store.records.size).toBe(0);
    const postponed = t.log.lines.filter((l) => l.msg?.startsWith('database unavailable'));
    expect(postponed.map((l) => (l.obj as { postponed?: number }).postponed)).toEqual([1, 2]);
  });

  it('postpones for 0.5 s doubling to 5 s, the upper half jittered', () => {
    expect([0, 1, 2, 3, 4, 20].map((n) => postponementDelayMs(n, () => 0))).toEqual([
      250, 500, 1_000, 2_000, 2_500, 2_500,
    ]);
    expect(postponementDelayMs(20, () => 0.999)).toBeLessThanOrEqual(5_000);
  });

  it('refuses a handler map that misses a kind (also a compile error)', () => {
    expect(() =>
      createWorkerRuntime({
        queue: queueNames.step,
        connection: { url: redisUrl },
        prefix: '{x}',
        // @ts-expect-error compensate has no handler
        handlers: { step: async () => 1 },
        log: memoryLogger(),
        deadLetters: new MemoryDeadLetters(),
      }),
    ).toThrow(/no handler for compensate/);
  });
});
