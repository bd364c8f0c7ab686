import { describe, expect, it } from 'vitest';
import type { QueueLogger } from '@agentry/queue';
import { lazyChild } from './lazy-child';

function recorder() {
  const lines: Array<{ bindings: Record<string, unknown>; level: string; args: unknown[] }> = [];
  let children = 0;
  const make = (bindings: Record<string, unknown>): QueueLogger => ({
    debug: (...args) => lines.push({ bindings, level: 'debug', args }),
    info: (...args) => lines.push({ bindings, level: 'info', args }),
    warn: (...args) => lines.push({ bindings, level: 'warn', args }),
    error: (...args) => lines.push({ bindings, level: 'error', args }),
    child: (b) => {
      children += 1;
      return make({ ...bindings, ...b });
    },
  });
  return { root: make({ job: 'j1' }), lines, children: () => children };
}

describe('lazyChild', () => {
  it('makes the child on the first line only, once, and logs through it', () => {
    const r = recorder();
    let asked = 0;
    const log = lazyChild(
      () => {
        asked += 1;
        return r.root;
      },
      { tool: 'echo' },
    );
    expect(asked).toBe(0);
    expect(r.children()).toBe(0);
    log.info({ a: 1 }, 'one');
    log.warn({ b: 2 });
    expect(asked).toBe(1);
    expect(r.children()).toBe(1);
    expect(r.lines).toEqual([
      { bindings: { job: 'j1', tool: 'echo' }, level: 'info', args: [{ a: 1 }, 'one'] },
      { bindings: { job: 'j1', tool: 'echo' }, level: 'warn', args: [{ b: 2 }] },
    ]);
  });

  it('keeps a child of it lazy too, with both bindings', () => {
    const r = recorder();
    const child = lazyChild(() => r.root, { tool: 'echo' }).child({ call: 2 });
    expect(r.children()).toBe(0);
    child.error({}, 'x');
    expect(r.lines[0]?.bindings).toEqual({ job: 'j1', tool: 'echo', call: 2 });
  });
});
