import { describe, expect, it } from 'vitest';
import { ResourceStack } from '../src';
import { memoryLog } from './support';

const never = () => new Promise<void>(() => undefined);

describe('ResourceStack', () => {
  it('closes in reverse order of opening', async () => {
    const closed: string[] = [];
    const stack = new ResourceStack();
    for (const name of ['database', 'redis', 'producer'])
      stack.push(name, name, (n) => void closed.push(n));
    await stack.close();
    expect(closed).toEqual(['producer', 'redis', 'database']);
  });

  it('keeps closing after one close throws or rejects, and logs each failure', async () => {
    const closed: string[] = [];
    const log = memoryLog();
    const stack = new ResourceStack(log);
    stack.push('a', 'a', (n) => void closed.push(n));
    stack.push('throws', 'b', () => {
      throw new Error('boom');
    });
    stack.push('rejects', 'c', () => Promise.reject(new Error('nope')));
    stack.push('d', 'd', (n) => void closed.push(n));
    await stack.close();
    expect(closed).toEqual(['d', 'a']);
    expect(log.lines.map((l) => [l.msg, l.obj.resource])).toEqual([
      ['resource did not close cleanly', 'rejects'],
      ['resource did not close cleanly', 'throws'],
    ]);
  });

  it('bounds the whole teardown by the deadline, even with several hanging closes', async () => {
    const closed: string[] = [];
    const stack = new ResourceStack(memoryLog());
    stack.push('first', 'first', (n) => void closed.push(n));
    stack.push('hangs-1', 'x', never);
    stack.push('hangs-2', 'y', never);
    stack.push('last', 'last', (n) => void closed.push(n));
    const started = Date.now();
    await stack.close({ deadlineMs: 200 });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(400);
    // Every close still ran, the ones after a hang included.
    expect(closed).toEqual(['last', 'first']);
  });

  it('closes once however often close() is called (also through asyncDispose)', async () => {
    let calls = 0;
    const stack = new ResourceStack();
    stack.push('r', 'r', () => void (calls += 1));
    await Promise.all([stack.close(), stack.close()]);
    await stack[Symbol.asyncDispose]();
    expect(calls).toBe(1);
  });

  it('supports await using', async () => {
    const closed: string[] = [];
    {
      await using stack = new ResourceStack();
      stack.push('r', 'r', (n) => void closed.push(n));
    }
    expect(closed).toEqual(['r']);
  });
});
