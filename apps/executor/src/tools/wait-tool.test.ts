import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { testToolContext } from './testing/test-tool-context';
import { waitTool } from './wait-tool';

describe('wait', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('resolves after ms', async () => {
    const done = waitTool.run({ ms: 5_000 }, testToolContext());
    await vi.advanceTimersByTimeAsync(5_000);
    await expect(done).resolves.toEqual({ waitedMs: 5_000 });
  });

  it('rejects at once on abort and clears its timer', async () => {
    const controller = new AbortController();
    const done = waitTool.run({ ms: 60_000 }, testToolContext({ signal: controller.signal }));
    controller.abort();
    await expect(done).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reports a step timeout as TIMEOUT', async () => {
    const controller = new AbortController();
    const done = waitTool.run({ ms: 60_000 }, testToolContext({ signal: controller.signal }));
    controller.abort(new DOMException('step timed out', 'TimeoutError'));
    await expect(done).rejects.toMatchObject({ code: 'TIMEOUT', retryable: true });
  });

  it('rejects without waiting when already aborted', async () => {
    const signal = AbortSignal.abort();
    await expect(waitTool.run({ ms: 10 }, testToolContext({ signal }))).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('accepts 0..600000 whole milliseconds', () => {
    expect(waitTool.input.safeParse({ ms: 600_000 }).success).toBe(true);
    expect(waitTool.input.safeParse({ ms: 600_001 }).success).toBe(false);
    expect(waitTool.input.safeParse({ ms: -1 }).success).toBe(false);
    expect(waitTool.input.safeParse({ ms: 1.5 }).success).toBe(false);
  });
});
