import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { timeout } from './timeout';

/** Settles only when its signal aborts, with the abort reason. */
const honouring = ({ signal }: { signal: AbortSignal }) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

describe('timeout', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('resolves a fast call and clears its timer', async () => {
    await expect(timeout(100).execute(async () => 'ok')).resolves.toBe('ok');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cooperative: aborts the signal at the deadline and rejects with TIMEOUT', async () => {
    const policy = timeout(100);
    const onTimeout = vi.fn();
    policy.onTimeout(onTimeout);
    const caught = policy.execute(honouring).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(99);
    expect(onTimeout).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(await caught).toMatchObject({ code: 'TIMEOUT', details: { timeoutMs: 100 } });
    expect(onTimeout).toHaveBeenCalledWith({ timeoutMs: 100 });
  });

  it('cooperative: waits for a function that ignores the signal, and keeps its value', async () => {
    const policy = timeout(100);
    const result = policy.execute(() => new Promise((r) => setTimeout(() => r('late'), 300)));
    const settled = vi.fn();
    void result.then(settled);
    await vi.advanceTimersByTimeAsync(200);
    expect(settled).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(100);
    await expect(result).resolves.toBe('late');
  });

  it('cooperative: a different error after the deadline becomes TIMEOUT with it as cause', async () => {
    const cause = new Error('socket closed');
    const caught = timeout(100)
      .execute(
        ({ signal }) =>
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(cause))),
      )
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    expect(await caught).toMatchObject({ code: 'TIMEOUT', cause });
  });

  it('aggressive: rejects at the deadline even if the function ignores the signal', async () => {
    const policy = timeout(100, { strategy: 'aggressive' });
    let signal: AbortSignal | undefined;
    const caught = policy
      .execute((ctx) => {
        signal = ctx.signal;
        return new Promise(() => {});
      })
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    expect(await caught).toMatchObject({ code: 'TIMEOUT' });
    expect(signal?.aborted).toBe(true);
  });

  it('aggressive: the caller’s abort rejects at once with its reason', async () => {
    const controller = new AbortController();
    const caught = timeout(10_000, { strategy: 'aggressive' })
      .execute(() => new Promise(() => {}), controller.signal)
      .catch((e: unknown) => e);
    controller.abort('stop');
    expect(await caught).toBe('stop');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cooperative: the caller’s abort is passed on, and its reason is not a timeout', async () => {
    const controller = new AbortController();
    const caught = timeout(10_000)
      .execute(honouring, controller.signal)
      .catch((e: unknown) => e);
    controller.abort('stop');
    expect(await caught).toBe('stop');
  });
});
