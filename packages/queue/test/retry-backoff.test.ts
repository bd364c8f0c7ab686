import { AppError, jobIds, queueNames } from '@agentry/schema';
import { describe, expect, it } from 'vitest';
import type { JobContext } from '../src/job-context';
import { jitteredBackoffType } from '../src/retry-backoff';
import { waitFor } from './support';
import { noCompensate, runId, step, useWorkerHarness } from './worker-harness';

const { setup } = useWorkerHarness();

/** A step handler failing its first attempt with `error`; records when each attempt ran. */
function failsOnce(error: AppError) {
  const attempts: Array<{ attempt: number; at: number }> = [];
  const handler = async (_payload: unknown, ctx: JobContext) => {
    attempts.push({ attempt: ctx.attempt, at: Date.now() });
    if (ctx.attempt === 1) throw error;
    return 'ok';
  };
  return { attempts, handler };
}

describe('retry backoff of catalog jobs', () => {
  it('waits the retryAfterMs an AppError carries before the next attempt', async () => {
    let draws = 0;
    const { attempts, handler } = failsOnce(
      new AppError('RATE_LIMITED', 'slow down', { details: { retryAfterMs: 1_500 } }),
    );
    const t = await setup(
      { step: handler, compensate: noCompensate },
      { retryBackoff: { random: () => (draws++, 0) } },
    );
    await t.runtime.start();
    const jobId = jobIds.step(runId, 'retry-after');
    await t.producer.enqueue('step', step('retry-after'), { jobId });
    const q = t.producer.queue(queueNames.step);
    await waitFor(async () => (await q.getJob(jobId))?.returnvalue === 'ok', 10_000);

    const job = await q.getJob(jobId);
    expect(job?.opts.backoff).toEqual({ type: jitteredBackoffType, delay: 1_000 });
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2]);
    const failedAt = attempts[0]?.at ?? Infinity;
    // Lower bounds only: the job became due 1.5 s after it failed, not earlier.
    expect((job?.processedOn ?? 0) - failedAt).toBeGreaterThanOrEqual(1_500);
    expect((attempts[1]?.at ?? 0) - failedAt).toBeGreaterThanOrEqual(1_500);
    expect(draws).toBe(0);
  });

  it('draws a jittered delay for a failure without retryAfterMs', async () => {
    let draws = 0;
    const { attempts, handler } = failsOnce(new AppError('TRANSIENT', 'flaky'));
    const t = await setup(
      { step: handler, compensate: noCompensate },
      { retryBackoff: { random: () => (draws++, 0) } },
    );
    await t.runtime.start();
    const jobId = jobIds.step(runId, 'jitter');
    await t.producer.enqueue('step', step('jitter'), { jobId });
    const q = t.producer.queue(queueNames.step);
    await waitFor(async () => (await q.getJob(jobId))?.returnvalue === 'ok', 10_000);
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2]);
    expect(draws).toBe(1);
  });

  it('still retries a job enqueued with the built-in exponential backoff', async () => {
    let draws = 0;
    const { attempts, handler } = failsOnce(new AppError('TRANSIENT', 'flaky'));
    const t = await setup(
      { step: handler, compensate: noCompensate },
      { retryBackoff: { random: () => (draws++, 0) } },
    );
    const jobId = jobIds.step(runId, 'legacy');
    const q = t.producer.queue(queueNames.step);
    await q.add('step', step('legacy'), {
      jobId,
      attempts: 2,
      backoff: { type: 'exponential', delay: 100 },
    });
    await t.runtime.start();
    await waitFor(async () => (await q.getJob(jobId))?.returnvalue === 'ok', 10_000);
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2]);
    expect(draws).toBe(0);
  });
});
