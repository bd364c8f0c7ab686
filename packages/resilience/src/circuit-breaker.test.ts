import { AppError } from '@agentry/schema';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isBrokenCircuitError } from './broken-circuit-error';
import { circuitBreaker, type CircuitState } from './circuit-breaker';
import { consecutiveBreaker } from './consecutive-breaker';
import { samplingBreaker } from './sampling-breaker';
import { timeout } from './timeout';
import { wrap } from './wrap';

const fail = async () => {
  throw new AppError('UNAVAILABLE', '503');
};
const ok = async () => 'ok';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function observed(policy: ReturnType<typeof circuitBreaker>) {
  const transitions: string[] = [];
  policy.onStateChange(({ from, to }) => transitions.push(`${from}->${to}`));
  return transitions;
}

describe('circuitBreaker', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('CLOSED → OPEN after n consecutive failures; OPEN rejects without calling', async () => {
    const policy = circuitBreaker({ halfOpenAfterMs: 1_000, breaker: consecutiveBreaker(3) });
    const transitions = observed(policy);
    const onBreak = vi.fn();
    policy.onBreak(onBreak);
    await expect(policy.execute(fail)).rejects.toThrow('503');
    await policy.execute(ok); // a success resets the count
    for (let i = 0; i < 3; i++) await expect(policy.execute(fail)).rejects.toThrow('503');
    expect(policy.state).toBe<CircuitState>('OPEN');
    expect(onBreak).toHaveBeenCalledWith({ error: expect.objectContaining({ message: '503' }) });

    await vi.advanceTimersByTimeAsync(400);
    const fn = vi.fn(ok);
    const rejection = await policy.execute(fn).catch((e: unknown) => e);
    expect(fn).not.toHaveBeenCalled();
    expect(isBrokenCircuitError(rejection)).toBe(true);
    expect(rejection).toMatchObject({ code: 'UNAVAILABLE', details: { retryAfterMs: 600 } });
    expect(transitions).toEqual(['CLOSED->OPEN']);
  });

  it('OPEN → HALF_OPEN after halfOpenAfterMs; a successful probe closes it', async () => {
    const policy = circuitBreaker({ halfOpenAfterMs: 1_000, breaker: consecutiveBreaker(1) });
    const transitions = observed(policy);
    const events: string[] = [];
    policy.onHalfOpen(() => events.push('halfOpen'));
    policy.onReset(() => events.push('reset'));
    await expect(policy.execute(fail)).rejects.toThrow();
    await vi.advanceTimersByTimeAsync(999);
    await expect(policy.execute(ok)).rejects.toSatisfy(isBrokenCircuitError);
    await vi.advanceTimersByTimeAsync(1);
    expect(policy.state).toBe('OPEN'); // lazily: the next call makes it half-open
    await expect(policy.execute(ok)).resolves.toBe('ok');
    expect(policy.state).toBe('CLOSED');
    expect(events).toEqual(['halfOpen', 'reset']);
    expect(transitions).toEqual(['CLOSED->OPEN', 'OPEN->HALF_OPEN', 'HALF_OPEN->CLOSED']);
  });

  it('HALF_OPEN → OPEN again when the probe fails, for another halfOpenAfterMs', async () => {
    const policy = circuitBreaker({ halfOpenAfterMs: 1_000, breaker: consecutiveBreaker(1) });
    const transitions = observed(policy);
    await expect(policy.execute(fail)).rejects.toThrow();
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(policy.execute(fail)).rejects.toThrow('503');
    expect(policy.state).toBe('OPEN');
    await vi.advanceTimersByTimeAsync(999);
    await expect(policy.execute(ok)).rejects.toSatisfy(isBrokenCircuitError);
    await vi.advanceTimersByTimeAsync(1);
    await expect(policy.execute(ok)).resolves.toBe('ok');
    expect(transitions).toEqual([
      'CLOSED->OPEN',
      'OPEN->HALF_OPEN',
      'HALF_OPEN->OPEN',
      'OPEN->HALF_OPEN',
      'HALF_OPEN->CLOSED',
    ]);
  });

  it('lets exactly halfOpenProbes through and closes only when all succeed', async () => {
    const policy = circuitBreaker({
      halfOpenAfterMs: 100,
      breaker: consecutiveBreaker(1),
      halfOpenProbes: 2,
    });
    await expect(policy.execute(fail)).rejects.toThrow();
    await vi.advanceTimersByTimeAsync(100);
    const a = deferred<string>();
    const b = deferred<string>();
    const first = policy.execute(() => a.promise);
    const second = policy.execute(() => b.promise);
    const third = vi.fn(ok);
    await expect(policy.execute(third)).rejects.toSatisfy(isBrokenCircuitError);
    expect(third).not.toHaveBeenCalled();
    a.resolve('a');
    await expect(first).resolves.toBe('a');
    expect(policy.state).toBe('HALF_OPEN');
    await expect(policy.execute(third)).rejects.toSatisfy(isBrokenCircuitError);
    b.resolve('b');
    await expect(second).resolves.toBe('b');
    expect(policy.state).toBe('CLOSED');
  });

  it('a probe ending in a non-counted error frees its slot without closing', async () => {
    const policy = circuitBreaker({ halfOpenAfterMs: 100, breaker: consecutiveBreaker(1) });
    await expect(policy.execute(fail)).rejects.toThrow();
    await vi.advanceTimersByTimeAsync(100);
    await expect(
      policy.execute(async () => {
        throw new AppError('VALIDATION', 'bad');
      }),
    ).rejects.toThrow('bad');
    expect(policy.state).toBe('HALF_OPEN');
    await expect(policy.execute(ok)).resolves.toBe('ok');
    expect(policy.state).toBe('CLOSED');
  });

  it('validation errors and caller aborts do not count as failures', async () => {
    const policy = circuitBreaker({ halfOpenAfterMs: 100, breaker: consecutiveBreaker(1) });
    await expect(
      policy.execute(async () => {
        throw new AppError('VALIDATION', 'bad');
      }),
    ).rejects.toThrow();
    const controller = new AbortController();
    await expect(
      policy.execute(async () => {
        controller.abort();
        throw new AppError('UNAVAILABLE', 'cut');
      }, controller.signal),
    ).rejects.toThrow();
    expect(policy.state).toBe('CLOSED');
  });

  it('ignores outcomes of calls started before a transition', async () => {
    const policy = circuitBreaker({ halfOpenAfterMs: 100, breaker: consecutiveBreaker(1) });
    const slow = deferred<string>();
    const late = policy.execute(() => slow.promise);
    await expect(policy.execute(fail)).rejects.toThrow();
    expect(policy.state).toBe('OPEN');
    slow.resolve('late');
    await expect(late).resolves.toBe('late');
    expect(policy.state).toBe('OPEN');
  });

  it('counts timeouts as failures', async () => {
    const breaker = circuitBreaker({ halfOpenAfterMs: 1_000, breaker: consecutiveBreaker(2) });
    const policy = wrap(breaker, timeout(50, { strategy: 'aggressive' }));
    for (let i = 0; i < 2; i++) {
      const result = policy.execute(() => new Promise(() => {}));
      const caught = result.catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(50);
      expect(await caught).toMatchObject({ code: 'TIMEOUT' });
    }
    expect(breaker.state).toBe('OPEN');
  });

  describe('samplingBreaker', () => {
    it('does not open below minCalls, whatever the ratio', async () => {
      const policy = circuitBreaker({
        halfOpenAfterMs: 100,
        breaker: samplingBreaker({ threshold: 0.5, windowMs: 10_000, minCalls: 4 }),
      });
      for (let i = 0; i < 3; i++) await expect(policy.execute(fail)).rejects.toThrow();
      expect(policy.state).toBe('CLOSED');
      await expect(policy.execute(fail)).rejects.toThrow();
      expect(policy.state).toBe('OPEN');
    });

    it('opens at the failure ratio, not below it', async () => {
      const policy = circuitBreaker({
        halfOpenAfterMs: 100,
        breaker: samplingBreaker({ threshold: 0.5, windowMs: 10_000, minCalls: 4 }),
      });
      for (let i = 0; i < 3; i++) await policy.execute(ok);
      for (let i = 0; i < 2; i++) await expect(policy.execute(fail)).rejects.toThrow();
      expect(policy.state).toBe('CLOSED'); // 2 of 5
      await expect(policy.execute(fail)).rejects.toThrow();
      expect(policy.state).toBe('OPEN'); // 3 of 6
    });

    it('forgets calls older than the window', async () => {
      const policy = circuitBreaker({
        halfOpenAfterMs: 100,
        breaker: samplingBreaker({ threshold: 0.5, windowMs: 1_000, minCalls: 3 }),
      });
      for (let i = 0; i < 2; i++) await expect(policy.execute(fail)).rejects.toThrow();
      await vi.advanceTimersByTimeAsync(1_000);
      await expect(policy.execute(fail)).rejects.toThrow();
      expect(policy.state).toBe('CLOSED'); // the first two have left the window
      for (let i = 0; i < 2; i++) await expect(policy.execute(fail)).rejects.toThrow();
      expect(policy.state).toBe('OPEN');
    });

    it('starts afresh after closing', async () => {
      const policy = circuitBreaker({
        halfOpenAfterMs: 100,
        breaker: samplingBreaker({ threshold: 0.5, windowMs: 10_000, minCalls: 2 }),
      });
      for (let i = 0; i < 2; i++) await expect(policy.execute(fail)).rejects.toThrow();
      await vi.advanceTimersByTimeAsync(100);
      await policy.execute(ok);
      expect(policy.state).toBe('CLOSED');
      await expect(policy.execute(fail)).rejects.toThrow();
      expect(policy.state).toBe('CLOSED'); // 1 call < minCalls: old failures were forgotten
    });

    it('rejects impossible options', () => {
      expect(() => samplingBreaker({ threshold: 0, windowMs: 1, minCalls: 1 })).toThrow(RangeError);
      expect(() => consecutiveBreaker(0)).toThrow(RangeError);
      expect(() =>
        circuitBreaker({ halfOpenAfterMs: 1, breaker: consecutiveBreaker(1), halfOpenProbes: 0 }),
      ).toThrow(RangeError);
    });
  });
});
