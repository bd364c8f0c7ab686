import type { PostgresPool, PostgresPoolClient } from 'kysely';
import { describe, expect, it } from 'vitest';
import { reauthenticatingPool } from './reauthenticating-pool';

/**
 * The adapter alone, over a scripted pool: the Postgres here trusts loopback connections, so it
 * never asks for a password and cannot refuse one.
 */
function scriptedPool(failures: unknown[]) {
  let connects = 0;
  const client = { query: () => Promise.reject(new Error('unused')), release: () => undefined };
  const pool: PostgresPool = {
    connect: () => {
      connects += 1;
      const failure = failures.shift();
      return failure === undefined
        ? Promise.resolve(client as unknown as PostgresPoolClient)
        : Promise.reject(failure);
    },
    end: () => Promise.resolve(),
  };
  return { pool, client, connects: () => connects };
}

const refused = Object.assign(new Error('password authentication failed for user "app"'), {
  code: '28P01',
});

describe('reauthenticatingPool', () => {
  it('after a refused password, drops the cached one and connects once more', async () => {
    const { pool, client, connects } = scriptedPool([refused]);
    let invalidated = 0;
    const wrapped = reauthenticatingPool(pool, () => (invalidated += 1));
    expect(await wrapped.connect()).toBe(client);
    expect([connects(), invalidated]).toEqual([2, 1]);
  });

  it('a second refusal, or any other error, is the caller’s', async () => {
    const twice = scriptedPool([refused, refused]);
    await expect(reauthenticatingPool(twice.pool, () => undefined).connect()).rejects.toBe(refused);
    expect(twice.connects()).toBe(2);

    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const other = scriptedPool([down]);
    let invalidated = 0;
    await expect(reauthenticatingPool(other.pool, () => (invalidated += 1)).connect()).rejects.toBe(
      down,
    );
    expect([other.connects(), invalidated]).toEqual([1, 0]);
  });
});
