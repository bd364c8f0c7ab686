import { describe, expect, it } from 'vitest';
import { AppError } from '@agentry/schema';
import { retryTransient } from './retry-transient';

describe('retryTransient', () => {
  it('retries retryable AppErrors up to the attempts, with full-jitter waits', async () => {
    const waits: number[] = [];
    let calls = 0;
    const value = await retryTransient(
      async (attempt) => {
        calls++;
        if (attempt < 3) throw new AppError('UNAVAILABLE', 'down');
        return 'ok';
      },
      { random: () => 0.5, initialMs: 100, onRetry: (e) => waits.push(e.delayMs) },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(3);
    expect(waits).toEqual([50, 100]);
  });

  it('gives up after the last attempt, saying so, keeping the code', async () => {
    let calls = 0;
    const run = retryTransient(
      async () => {
        calls++;
        throw new AppError('UNAVAILABLE', 'Prometheus is unreachable');
      },
      { random: () => 0 },
    );
    await expect(run).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: 'Prometheus is unreachable (gave up after 3 attempts)',
    });
    expect(calls).toBe(3);
  });

  it('never retries a non-retryable AppError or a plain error', async () => {
    let calls = 0;
    const fatal = retryTransient(async () => {
      calls++;
      throw new AppError('TIMEOUT', 'slow', { retryable: false });
    });
    await expect(fatal).rejects.toMatchObject({ code: 'TIMEOUT', message: 'slow' });
    await expect(
      retryTransient(async () => {
        calls++;
        throw new TypeError('bug');
      }),
    ).rejects.toThrow('bug');
    expect(calls).toBe(2);
  });

  it('an abort ends the wait at once', async () => {
    const controller = new AbortController();
    const run = retryTransient(
      async () => {
        setTimeout(() => controller.abort(new Error('stop')), 10);
        throw new AppError('UNAVAILABLE', 'down');
      },
      { random: () => 0.99, initialMs: 60_000, maxMs: 60_000, signal: controller.signal },
    );
    const started = Date.now();
    await expect(run).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
