import { AppError } from '@agentry/schema';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffCap, fullJitterDelay } from './backoff';
import { retry, type GiveUpReason } from './retry';
import { BrokenCircuitError } from './broken-circuit-error';
import { retryBudget } from './retry-budget';

const transient = () => new AppError('TRANSIENT', 'flaky');
const backoff = { initialMs: 100, maxMs: 1_000 };

/** A sleep that records the delay and returns at once (no timers). */
function recordingSleep() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}

describe('retry', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('retries transient faults with full-jitter exponential delays, then succeeds', async () => {
    const policy = retry({ maxAttempts: 4, backoff, random: () => 0.5 });
    const retries: number[] = [];
    policy.onRetry(({ delayMs }) => retries.push(delayMs));
    const succeeded = vi.fn();
    policy.onSuccess(succeeded);
    const fn = vi.fn(async ({ attempt }: { attempt: number }) => {
      if (attempt < 4) throw transient();
      return 'ok';
    });
    const result = policy.execute(fn);
    await vi.advanceTimersByTimeAsync(50);
    expect(fn).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(100 + 200);
    await expect(result).resolves.toBe('ok');
    expect(retries).toEqual([50, 100, 200]);
    expect(succeeded).toHaveBeenCalledWith({ attempts: 4 });
  });

  it('gives up after maxAttempts with the last error', async () => {
    const { sleep } = recordingSleep();
    const policy = retry({ maxAttempts: 3, backoff, sleep });
    const gaveUp = vi.fn();
    policy.onGiveUp(gaveUp);
    const fn = vi.fn(async () => {
      throw transient();
    });
    await expect(policy.execute(fn)).rejects.toMatchObject({ code: 'TRANSIENT' });
    expect(fn).toHaveBeenCalledTimes(3);
    expect(gaveUp).toHaveBeenCalledWith(
      expect.objectContaining({ attempts: 3, reason: 'attempts' }),
    );
  });

  it.each([
    ['VALIDATION', new AppError('VALIDATION', 'bad input')],
    ['PLAN_INVALID', new AppError('PLAN_INVALID', 'bad plan')],
    ['retryable: false', new AppError('TRANSIENT', 'final', { retryable: false })],
    ['a TypeError (programmer error)', new TypeError('x is not a function')],
    ['an AbortError', new DOMException('aborted', 'AbortError')],
  ])('never retries %s', async (_name, error) => {
    const policy = retry({ maxAttempts: 5, backoff, sleep: recordingSleep().sleep });
    const fn = vi.fn(async () => {
      throw error;
    });
    await expect(policy.execute(fn)).rejects.toBe(error);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('handleWhen can narrow but not widen what is retried', async () => {
    const policy = retry({
      maxAttempts: 5,
      backoff,
      sleep: recordingSleep().sleep,
      handleWhen: () => false,
    });
    const fn = vi.fn(async () => {
      throw transient();
    });
    await expect(policy.execute(fn)).rejects.toMatchObject({ code: 'TRANSIENT' });
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('coerces non-Error throws and retries them as unknown faults', async () => {
    const policy = retry({ maxAttempts: 2, backoff, sleep: recordingSleep().sleep });
    const fn = vi.fn(async () => {
      throw 'boom';
    });
    await expect(policy.execute(fn)).rejects.toThrow('boom');
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('honours retryAfterMs exactly, and gives up when it exceeds maxMs', async () => {
    const { delays, sleep } = recordingSleep();
    const policy = retry({ maxAttempts: 3, backoff, sleep, random: () => 0 });
    const reasons: GiveUpReason[] = [];
    policy.onGiveUp(({ reason }) => reasons.push(reason));
    const limited = (retryAfterMs: number) =>
      new AppError('RATE_LIMITED', '429', { details: { retryAfterMs } });
    let calls = 0;
    await expect(
      policy.execute(async () => {
        calls++;
        throw limited(calls === 1 ? 700 : 5_000);
      }),
    ).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(delays).toEqual([700]);
    expect(calls).toBe(2);
    expect(reasons).toEqual(['retry-after']);
  });

  it('an abort during the backoff wait rejects at once with the abort reason', async () => {
    const policy = retry({
      maxAttempts: 3,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
      random: () => 0.99,
    });
    const controller = new AbortController();
    const fn = vi.fn(async () => {
      throw transient();
    });
    const result = policy.execute(fn, controller.signal);
    const settled = vi.fn();
    result.catch(settled);
    await vi.advanceTimersByTimeAsync(10);
    const reason = new Error('shutting down');
    controller.abort(reason);
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toHaveBeenCalledWith(reason);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('threads the signal and rejects at once when it is already aborted', async () => {
    const policy = retry({ maxAttempts: 3, backoff });
    const controller = new AbortController();
    const seen: AbortSignal[] = [];
    await policy.execute(async ({ signal }) => void seen.push(signal), controller.signal);
    expect(seen[0]).toBe(controller.signal);
    controller.abort('gone');
    const fn = vi.fn();
    await expect(policy.execute(fn, controller.signal)).rejects.toBe('gone');
    expect(fn).not.toHaveBeenCalled();
  });

  it('does not retry when the caller aborted during the attempt', async () => {
    const policy = retry({ maxAttempts: 3, backoff, sleep: recordingSleep().sleep });
    const controller = new AbortController();
    const fn = vi.fn(async () => {
      controller.abort('cancelled');
      throw transient();
    });
    await expect(policy.execute(fn, controller.signal)).rejects.toBe('cancelled');
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('a shared budget stops retries across calls once failures drain it', async () => {
    const budget = retryBudget({ maxTokens: 4, tokenRatio: 0.5 });
    const policy = retry({ maxAttempts: 3, backoff, sleep: recordingSleep().sleep, budget });
    const reasons: GiveUpReason[] = [];
    policy.onGiveUp(({ reason }) => reasons.push(reason));
    const fn = vi.fn(async () => {
      throw transient();
    });
    // tokens 4 → 3 (retry) → 2 (not > 2: give up)
    await expect(policy.execute(fn)).rejects.toThrow();
    expect(fn).toHaveBeenCalledTimes(2);
    await expect(policy.execute(fn)).rejects.toThrow();
    expect(fn).toHaveBeenCalledTimes(3);
    expect(reasons).toEqual(['budget', 'budget']);
    // successes refill it
    for (let i = 0; i < 4; i++) await policy.execute(async () => 'ok');
    expect(budget.tokens).toBe(3);
    expect(budget.canRetry()).toBe(true);
  });

  it("does not charge the budget for an open circuit's rejections (they reached nothing)", async () => {
    const budget = retryBudget({ maxTokens: 4, tokenRatio: 0.5 });
    const policy = retry({ maxAttempts: 2, backoff, sleep: recordingSleep().sleep, budget });
    const fn = vi.fn(async () => {
      throw new BrokenCircuitError('circuit is open', 0);
    });
    for (let i = 0; i < 5; i++) await expect(policy.execute(fn)).rejects.toThrow('circuit');
    expect(fn).toHaveBeenCalledTimes(10);
    expect(budget.tokens).toBe(4);
  });

  it('rejects impossible options', () => {
    expect(() => retry({ maxAttempts: 0, backoff })).toThrow(RangeError);
    expect(() => retry({ maxAttempts: 2, backoff: { initialMs: 10, maxMs: 5 } })).toThrow(
      RangeError,
    );
    expect(() => retryBudget({ maxTokens: 0, tokenRatio: 0.1 })).toThrow(RangeError);
  });
});

describe('retry properties', () => {
  const backoffArb = fc.record({
    initialMs: fc.integer({ min: 0, max: 10_000 }),
    extraMs: fc.integer({ min: 0, max: 100_000 }),
    multiplier: fc.double({ min: 1, max: 10, noNaN: true }),
  });
  const randomArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

  it('every backoff delay is within [0, min(maxMs, initialMs * m^(n-1))]', () => {
    fc.assert(
      fc.property(backoffArb, fc.integer({ min: 1, max: 2_000 }), randomArb, (b, attempt, r) => {
        const options = {
          initialMs: b.initialMs,
          maxMs: b.initialMs + b.extraMs,
          multiplier: b.multiplier,
        };
        // 0 · ∞ is NaN: with initialMs 0 the bound is 0 whatever the attempt.
        const bound =
          options.initialMs === 0
            ? 0
            : Math.min(options.maxMs, options.initialMs * options.multiplier ** (attempt - 1));
        const delay = fullJitterDelay(options, attempt, () => r);
        expect(backoffCap(options, attempt)).toBe(bound);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(bound);
        expect(delay).toBeLessThanOrEqual(options.maxMs);
      }),
    );
  });

  it('never calls more than maxAttempts times, and every wait is within its bound', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.constantFrom('transient', 'fatal', 'ok', 'retryAfter'), { maxLength: 12 }),
        randomArb,
        async (maxAttempts, outcomes, r) => {
          const { delays, sleep } = recordingSleep();
          const policy = retry({ maxAttempts, backoff, sleep, random: () => r });
          let calls = 0;
          await policy
            .execute(async ({ attempt }) => {
              calls++;
              expect(attempt).toBe(calls);
              const outcome = outcomes[attempt - 1] ?? 'transient';
              if (outcome === 'ok') return 'ok';
              if (outcome === 'fatal') throw new AppError('VALIDATION', 'no');
              if (outcome === 'retryAfter')
                throw new AppError('RATE_LIMITED', '429', { details: { retryAfterMs: 300 } });
              throw transient();
            })
            .catch(() => undefined);
          expect(calls).toBeLessThanOrEqual(maxAttempts);
          expect(delays).toHaveLength(calls - 1);
          delays.forEach((d, i) => {
            const wasRetryAfter = outcomes[i] === 'retryAfter';
            expect(d).toBeGreaterThanOrEqual(0);
            expect(d).toBeLessThanOrEqual(wasRetryAfter ? 300 : backoffCap(backoff, i + 1));
          });
        },
      ),
    );
  });

  it('with a budget, an outage adds fewer than maxTokens/2 retries in total', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 2, max: 6 }),
        async (maxTokens, callCount, maxAttempts) => {
          const budget = retryBudget({ maxTokens, tokenRatio: 0.1 });
          const policy = retry({ maxAttempts, backoff, sleep: recordingSleep().sleep, budget });
          let calls = 0;
          for (let i = 0; i < callCount; i++)
            await policy
              .execute(async () => {
                calls++;
                throw transient();
              })
              .catch(() => undefined);
          expect(calls - callCount).toBeLessThan(Math.max(1, maxTokens / 2));
        },
      ),
    );
  });
});
