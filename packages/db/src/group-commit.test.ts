import { describe, expect, it } from 'vitest';
import { groupCommit, isServerError } from './group-commit';

/** A deferred result, to hold a batch in flight. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

describe('groupCommit', () => {
  it('sends a lone call at once, and the calls made meanwhile as one batch', async () => {
    const batches: number[][] = [];
    const first = gate();
    const commit = groupCommit<number, string>({
      one: async (n) => {
        batches.push([n]);
        await first.opened;
        return `one ${n}`;
      },
      many: async (ns) => {
        batches.push([...ns]);
        return ns.map((n) => `many ${n}`);
      },
      refused: () => true,
    });
    const a = commit(1);
    const rest = [commit(2), commit(3), commit(4)];
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1]]);
    first.open();
    expect(await a).toBe('one 1');
    expect(await Promise.all(rest)).toEqual(['many 2', 'many 3', 'many 4']);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('keeps batches to maxBatch and in flight to maxInFlight', async () => {
    const sizes: number[] = [];
    let inFlight = 0;
    let most = 0;
    const commit = groupCommit<number, number>({
      one: async (n) => n,
      many: async (ns) => {
        sizes.push(ns.length);
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight -= 1;
        return [...ns];
      },
      refused: () => true,
      maxBatch: 3,
      maxInFlight: 2,
    });
    const all = Array.from({ length: 20 }, (_, i) => i);
    expect(await Promise.all(all.map((n) => commit(n)))).toEqual(all);
    expect(Math.max(...sizes)).toBe(3);
    expect(most).toBe(2);
  });

  it('retries each item of a refused batch alone: only the item at fault fails', async () => {
    const hold = gate();
    const commit = groupCommit<number, number>({
      one: async (n) => {
        await hold.opened;
        if (n === 3) throw new Error('bad item');
        return n * 10;
      },
      many: () => Promise.reject(Object.assign(new Error('refused'), { refusedBatch: true })),
      refused: (e) => (e as { refusedBatch?: boolean }).refusedBatch === true,
    });
    const first = commit(1);
    const batch = [commit(2), commit(3), commit(4)].map((p) =>
      p.then(
        (v) => ({ ok: v }),
        (e: unknown) => ({ error: (e as Error).message }),
      ),
    );
    hold.open();
    expect(await first).toBe(10);
    expect(await Promise.all(batch)).toEqual([{ ok: 20 }, { error: 'bad item' }, { ok: 40 }]);
  });

  it('gives every caller of a batch an error it cannot call refused (it may have committed)', async () => {
    const hold = gate();
    let lone = 0;
    const commit = groupCommit<number, number>({
      one: async (n) => {
        lone += 1;
        await hold.opened;
        return n;
      },
      many: () => Promise.reject(new Error('connection terminated')),
      refused: () => false,
    });
    const first = commit(1);
    const batch = [commit(2), commit(3)].map((p) => p.catch((e: unknown) => (e as Error).message));
    hold.open();
    await first;
    expect(await Promise.all(batch)).toEqual(['connection terminated', 'connection terminated']);
    expect(lone).toBe(1);
  });
});

describe('isServerError', () => {
  it('is an ERROR reply of the server (with its SQLSTATE), not a FATAL one nor a socket error', () => {
    expect(isServerError({ severity: 'ERROR', code: '40P01' })).toBe(true);
    expect(isServerError({ severity: 'FATAL', code: '57P01' })).toBe(false);
    expect(isServerError(Object.assign(new Error('x'), { code: 'EPIPE' }))).toBe(false);
    expect(isServerError(new Error('Connection terminated unexpectedly'))).toBe(false);
    expect(isServerError(undefined)).toBe(false);
  });
});
