import { describe, expect, it, vi } from 'vitest';
import { bulkhead } from './bulkhead';
import { isBulkheadRejectedError } from './bulkhead-rejected-error';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

describe('bulkhead', () => {
  it('runs maxConcurrent, queues maxQueued in order, rejects the rest at once', async () => {
    const policy = bulkhead({ maxConcurrent: 2, maxQueued: 1 });
    const onReject = vi.fn();
    policy.onReject(onReject);
    const gates = [deferred<number>(), deferred<number>(), deferred<number>()];
    const started: number[] = [];
    const run = (i: number) =>
      policy.execute(() => {
        started.push(i);
        return gates[i]!.promise;
      });
    const calls = [run(0), run(1), run(2)];
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect([policy.active, policy.queued]).toEqual([2, 1]);

    const extra = vi.fn();
    const rejection = await policy.execute(extra).catch((e: unknown) => e);
    expect(extra).not.toHaveBeenCalled();
    expect(isBulkheadRejectedError(rejection)).toBe(true);
    expect(rejection).toMatchObject({ code: 'RATE_LIMITED' });
    expect(onReject).toHaveBeenCalledTimes(1);

    gates[0]!.resolve(0);
    await calls[0];
    await vi.waitFor(() => expect(started).toEqual([0, 1, 2]));
    expect([policy.active, policy.queued]).toEqual([2, 0]);
    gates[1]!.resolve(1);
    gates[2]!.resolve(2);
    await expect(Promise.all(calls)).resolves.toEqual([0, 1, 2]);
    expect([policy.active, policy.queued]).toEqual([0, 0]);
  });

  it('a queued call whose signal aborts leaves the queue at once', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueued: 1 });
    const gate = deferred<string>();
    const first = policy.execute(() => gate.promise);
    const controller = new AbortController();
    const queuedFn = vi.fn(async () => 'queued');
    const queued = policy.execute(queuedFn, controller.signal).catch((e: unknown) => e);
    expect(policy.queued).toBe(1);
    controller.abort('gone');
    expect(await queued).toBe('gone');
    expect(policy.queued).toBe(0);
    // the freed queue slot is usable again
    const next = policy.execute(async () => 'next');
    gate.resolve('first');
    await expect(first).resolves.toBe('first');
    await expect(next).resolves.toBe('next');
    expect(queuedFn).not.toHaveBeenCalled();
    expect(policy.active).toBe(0);
  });

  it('releases the slot when the function throws', async () => {
    const policy = bulkhead({ maxConcurrent: 1 });
    await expect(
      policy.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    await expect(policy.execute(async () => 'ok')).resolves.toBe('ok');
  });
});
