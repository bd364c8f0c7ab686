import { afterAll, describe, expect, it } from 'vitest';
import { checkRedis } from '../src/check-redis';
import { createRedisConnection } from '../src/redis-connection';
import { redisUrl, untilReady } from './support';

const connection = createRedisConnection(redisUrl, 'producer');
afterAll(async () => {
  await connection.quit();
});

describe('checkRedis', () => {
  it('reports the local Redis consistently with INFO and CONFIG GET', async () => {
    await untilReady(connection);
    const [, policy] = (await connection.config('GET', 'maxmemory-policy')) as [string, string];
    const version = /redis_version:(\S+)/.exec(await connection.info('server'))?.[1];
    const dev = await checkRedis(connection, { production: false });
    const prod = await checkRedis(connection, { production: true });
    expect(dev.version).toBe(version);
    expect(dev.maxmemoryPolicy).toBe(policy);
    expect(dev.ok).toBe(true);
    if (policy === 'noeviction') {
      expect(prod).toMatchObject({ ok: true, problems: [] });
    } else {
      expect(dev.problems).toEqual([expect.stringContaining(policy)]);
      expect(prod.ok).toBe(false);
    }
  });
});
