import { AppError } from '@agentry/schema';
import type { MinimalJob } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { retryBackoff } from './retry-backoff';

const jobWith = (backoff: MinimalJob['opts']['backoff']) => ({ opts: { backoff } }) as MinimalJob;
const job = jobWith({ type: 'agentry-jittered', delay: 1_000 });
const transient = new AppError('TRANSIENT', 'flaky');

describe('retryBackoff', () => {
  it('draws full jitter below the capped exponential bound', async () => {
    const draws = [0, 0.5, 0.999999];
    for (const r of draws) {
      const delay = retryBackoff({ random: () => r, maxMs: 60_000 });
      expect(await delay(1, 'agentry-jittered', transient, job)).toBe(Math.floor(r * 1_000));
      expect(await delay(3, 'agentry-jittered', transient, job)).toBe(Math.floor(r * 4_000));
      expect(await delay(20, 'agentry-jittered', transient, job)).toBe(Math.floor(r * 60_000));
    }
    const delay = retryBackoff({ maxMs: 5_000 });
    for (let attempt = 1; attempt <= 10; attempt++) {
      const ms = await delay(attempt, 'agentry-jittered', transient, job);
      expect(Number.isInteger(ms)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(Math.min(5_000, 1_000 * 2 ** (attempt - 1)));
    }
  });

  it('waits exactly an AppError’s retryAfterMs, capped', async () => {
    const delay = retryBackoff({ random: () => 0.5, maxRetryAfterMs: 10_000 });
    const limited = (retryAfterMs: unknown) =>
      new AppError('RATE_LIMITED', 'slow down', { details: { retryAfterMs } });
    expect(await delay(1, 'agentry-jittered', limited(1_500), job)).toBe(1_500);
    expect(await delay(4, 'agentry-jittered', limited(0), job)).toBe(0);
    expect(await delay(1, 'agentry-jittered', limited(60_000), job)).toBe(10_000);
    // Not a usable wait: back to jitter.
    expect(await delay(1, 'agentry-jittered', limited(-1), job)).toBe(500);
    expect(await delay(1, 'agentry-jittered', limited('7'), job)).toBe(500);
    const plain = Object.assign(new Error('x'), { details: { retryAfterMs: 9 } });
    expect(await delay(1, 'agentry-jittered', plain, job)).toBe(500);
  });

  it('takes the initial delay from the job, 1 s when it has none', async () => {
    const delay = retryBackoff({ random: () => 0.5 });
    expect(await delay(2, 'x', transient, jobWith({ type: 'x', delay: 200 }))).toBe(200);
    expect(await delay(1, 'x', transient, jobWith(300))).toBe(150);
    expect(await delay(1, 'x', transient, jobWith({ type: 'x' }))).toBe(500);
    expect(await delay(1, 'x', undefined, undefined)).toBe(500);
  });
});
