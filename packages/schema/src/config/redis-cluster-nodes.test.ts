import { describe, expect, it } from 'vitest';
import { commonEnv, toCommonConfig } from './common-config';
import { parseEnv } from './parse-env';
import { parseRedisClusterNodes } from './redis-cluster-nodes';

describe('parseRedisClusterNodes', () => {
  it('reads host:port seeds, IPv6 in brackets, spaces and empty entries ignored', () => {
    expect(parseRedisClusterNodes(' redis-0.redis:6379, 10.0.0.7:7000,,[::1]:7001 ')).toEqual([
      { host: 'redis-0.redis', port: 6379 },
      { host: '10.0.0.7', port: 7000 },
      { host: '::1', port: 7001 },
    ]);
  });

  it.each([
    ['', /no node/],
    ['h1', /"h1" is not host:port/],
    ['h1:0', /"h1:0": port 0 is out of range/],
    ['h1:65536', /port 65536 is out of range/],
    ['h1:6379,h1:6379', /"h1:6379" is given twice/],
    ['redis://h1:6379', /"redis:\/\/h1:6379" is a URL: give host:port/],
    ['h1:6379;h2:6379', /is not host:port/],
  ])('refuses %j', (text, message) => {
    expect(() => parseRedisClusterNodes(text)).toThrow(message);
  });

  it('never quotes an entry that may hold a password', () => {
    let message = '';
    try {
      parseRedisClusterNodes('h1:6379,rediss://user:s3cret@h2:6379');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^entry 2 is a URL/);
    expect(message).not.toContain('s3cret');
  });
});

describe('AGENTRY_REDIS_CLUSTER_NODES', () => {
  it('makes redisCluster, with AGENTRY_REDIS_CLUSTER_TLS', () => {
    const config = toCommonConfig(
      parseEnv(commonEnv, {
        AGENTRY_REDIS_CLUSTER_NODES: 'a:7000,b:7001',
        AGENTRY_REDIS_CLUSTER_TLS: 'true',
      }),
    );
    expect(config.redisCluster).toEqual({
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
      tls: true,
    });
    expect(
      toCommonConfig(parseEnv(commonEnv, { AGENTRY_REDIS_CLUSTER_NODES: '' })).redisCluster,
    ).toBe(undefined);
  });

  it('is a VALIDATION error naming the variable', () => {
    expect(() => parseEnv(commonEnv, { AGENTRY_REDIS_CLUSTER_NODES: 'a:7000,b' })).toThrow(
      /invalid configuration:\n {2}AGENTRY_REDIS_CLUSTER_NODES: "b" is not host:port/,
    );
  });
});
