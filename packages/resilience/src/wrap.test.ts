import { AppError } from '@agentry/schema';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bulkhead } from './bulkhead';
import { circuitBreaker } from './circuit-breaker';
import { consecutiveBreaker } from './consecutive-breaker';
import { fallback } from './fallback';
import type { Policy } from './policy';
import { retry } from './retry';
import { timeout } from './timeout';
import { wrap } from './wrap';

function tracer(name: string, log: string[]): Policy {
  return {
    async execute(fn, signal = new AbortController().signal) {
      log.push(`>${name}`);
      try {
        return await fn({ signal });
      } finally {
        log.push(`<${name}`);
      }
    },
  };
}

describe('fallback', () => {
  it('substitutes a value or the result of a function for handled errors only', async () => {
    const policy = fallback(
      (e) => e.message === 'handled',
      (e: Error) => `fallback: ${e.message}`,
    );
    const onFallback = vi.fn();
    policy.onFallback(onFallback);
    await expect(
      policy.execute(() => {
        throw new Error('handled');
      }),
    ).resolves.toBe('fallback: handled');
    expect(onFallback).toHaveBeenCalledTimes(1);
    await expect(
      policy.execute(() => {
        throw new Error('other');
      }),
    ).rejects.toThrow('other');
    await expect(fallback(() => true, 42).execute(async () => 1)).resolves.toBe(1);
  });

  it('never hides the caller’s own abort', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      fallback(() => true, 'x').execute(() => {
        throw new Error('aborted');
      }, controller.signal),
    ).rejects.toThrow('aborted');
  });
});

describe('wrap', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs policies outermost first and merges their contexts', async () => {
    const log: string[] = [];
    const policy = wrap(
      tracer('a', log),
      retry({ maxAttempts: 2, backoff: { initialMs: 0, maxMs: 0 }, sleep: async () => {} }),
      tracer('b', log),
    );
    const result = await policy.execute(({ attempt, signal }) => {
      log.push(`fn${attempt}`);
      expect(signal).toBeInstanceOf(AbortSignal);
      if (attempt === 1) throw new AppError('TRANSIENT', 'once');
      return attempt;
    });
    expect(result).toBe(2);
    expect(log).toEqual(['>a', '>b', 'fn1', '<b', '>b', 'fn2', '<b', '<a']);
  });

  it('passes the innermost signal to the function', async () => {
    let seen: AbortSignal | undefined;
    const outer = new AbortController();
    await wrap(timeout(1_000)).execute(({ signal }) => void (seen = signal), outer.signal);
    expect(seen).toBeDefined();
    expect(seen).not.toBe(outer.signal);
  });

  it('recommended order: an outage opens the breaker, retries stop, fallback answers', async () => {
    const breaker = circuitBreaker({ halfOpenAfterMs: 30_000, breaker: consecutiveBreaker(3) });
    const policy = wrap(
      fallback(() => true, 'fallback plan'),
      bulkhead({ maxConcurrent: 4, maxQueued: 8 }),
      retry({ maxAttempts: 5, backoff: { initialMs: 100, maxMs: 1_000 }, random: () => 1 - 1e-9 }),
      breaker,
      timeout(500, { strategy: 'aggressive' }),
    );
    let dependencyCalls = 0;
    const down = async () => {
      dependencyCalls++;
      throw new AppError('UNAVAILABLE', '503');
    };
    const first = policy.execute(down);
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(first).resolves.toBe('fallback plan');
    // 3 failures open the breaker; the 4th attempt is a fast rejection whose retryAfterMs
    // (~30 s) exceeds maxMs, so the retry gives up instead of hammering it.
    expect(dependencyCalls).toBe(3);
    expect(breaker.state).toBe('OPEN');
    await expect(policy.execute(down)).resolves.toBe('fallback plan');
    expect(dependencyCalls).toBe(3);
  });
});
