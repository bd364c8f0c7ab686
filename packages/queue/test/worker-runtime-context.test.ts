import { jobIds, queueNames } from '@agentry/schema';
import { describe, expect, it } from 'vitest';
import type { JobContext } from '../src/job-context';
import { memoryLogger, waitFor } from './support';
import { noCompensate, runId, step, useWorkerHarness } from './worker-harness';

const { setup } = useWorkerHarness();

describe('createWorkerRuntime: timeouts and the job context', () => {
  it('aborts the signal on timeout and fails the attempt with TIMEOUT', async () => {
    let signal: AbortSignal | undefined;
    const t = await setup(
      {
        step: (_p, ctx) => {
          signal = ctx.signal;
          return new Promise(() => undefined); // ignores its signal: the runtime still ends the attempt
        },
        compensate: noCompensate,
      },
      { timeoutsMs: { step: 150 } },
    );
    await t.runtime.start();
    const jobId = jobIds.step(runId, 't');
    await t.producer.enqueue('step', step('t'), { jobId, attempts: 1 });
    await waitFor(() => t.failedForGood.length === 1);
    expect(signal?.aborted).toBe(true);
    expect((signal?.reason as Error).name).toBe('TimeoutError');
    expect(t.failedForGood[0]?.errorCode).toBe('TIMEOUT');
  });

  it('times out a handler that never reads its signal; a signal read later is born aborted', async () => {
    let ctxSeen: JobContext | undefined;
    const t = await setup(
      {
        step: (_p, ctx) => {
          ctxSeen = ctx;
          return new Promise(() => undefined);
        },
        compensate: noCompensate,
      },
      { timeoutsMs: { step: 100 } },
    );
    await t.runtime.start();
    const jobId = jobIds.step(runId, 'lazy-timeout');
    const started = Date.now();
    await t.producer.enqueue('step', step('lazy-timeout'), { jobId, attempts: 1 });
    await waitFor(() => t.failedForGood.length === 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(t.failedForGood[0]?.errorCode).toBe('TIMEOUT');
    expect(ctxSeen?.signal.aborted).toBe(true);
    expect((ctxSeen?.signal.reason as Error).name).toBe('TimeoutError');
  });

  it('creates the child logger on first use only, bound to the job fields', async () => {
    const base = memoryLogger();
    let children = 0;
    const log = { ...base, child: (b: Record<string, unknown>) => (children++, base.child(b)) };
    const done: string[] = [];
    const t = await setup(
      {
        step: async (p, ctx) => {
          if (p.stepId === 'loud') {
            ctx.log.info({ n: 1 }, 'first');
            ctx.log.info({ n: 2 }, 'second');
          }
          done.push(p.stepId);
        },
        compensate: noCompensate,
      },
      { log },
    );
    await t.runtime.start();
    await t.producer.enqueue('step', step('quiet'), { jobId: jobIds.step(runId, 'quiet') });
    await waitFor(() => done.includes('quiet'));
    expect(children).toBe(0);
    await t.producer.enqueue('step', step('loud'), { jobId: jobIds.step(runId, 'loud') });
    await waitFor(() => done.includes('loud'));
    expect(children).toBe(1);
    const lines = base.lines.filter((l) => l.msg === 'first' || l.msg === 'second');
    expect(lines.map((l) => l.obj)).toEqual([
      {
        jobId: jobIds.step(runId, 'loud'),
        queue: queueNames.step,
        attempt: 1,
        runId,
        stepId: 'loud',
        correlationId: 'corr-1',
        n: 1,
      },
      {
        jobId: jobIds.step(runId, 'loud'),
        queue: queueNames.step,
        attempt: 1,
        runId,
        stepId: 'loud',
        correlationId: 'corr-1',
        n: 2,
      },
    ]);
  });
});
