import { AppError, jobIds, queueNames } from '@agentry/schema';
import { Queue, Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { JobContext } from '../src/job-context';
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
