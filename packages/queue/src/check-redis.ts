import type { Redis } from 'ioredis';
import { toError } from '@agentry/schema';
import { isCluster, masterServers, type RedisClient } from './redis-client';

export interface RedisCheck {
  version: string;
  /** `unknown` when neither CONFIG GET nor INFO memory reveals it. */
  maxmemoryPolicy: string;
  /** False when a problem must stop a production start-up. */
  ok: boolean;
  problems: string[];
}

const minimumVersion = [6, 2, 0] as const;

function versionBelow(version: string, min: readonly number[]): boolean {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < min.length; i += 1) {
    const have = parts[i] ?? 0;
    const want = min[i] ?? 0;
    if (Number.isNaN(have)) return true;
    if (have !== want) return have < want;
  }
  return false;
}

function infoField(info: string, field: string): string | undefined {
  const line = info.split(/\r?\n/).find((l) => l.startsWith(`${field}:`));
  return line?.slice(field.length + 1).trim();
}

/**
 * Start-up self-check of the Redis BullMQ runs on: version (≥ 6.2) and `maxmemory-policy`
 * (must be `noeviction`, or Redis may evict job keys under memory pressure).
 *
 * Reads `INFO server` and `CONFIG GET maxmemory-policy`; where CONFIG is disabled (managed
 * Redis) it falls back to `INFO memory`, and reports `unknown` with a warning if that fails too.
 * An eviction policy is a warning in development and makes `ok` false in production; an old or
 * unreadable version always does. Throws only if Redis cannot be reached at all.
 *
 * On a Redis Cluster every master is checked (the lowest version and each policy are reported,
 * a problem is named by its node), and a `cluster_state` other than `ok` makes `ok` false.
 */
export async function checkRedis(
  connection: RedisClient,
  options: { production: boolean },
): Promise<RedisCheck> {
  if (!isCluster(connection)) return checkServer(connection, options);
  const problems: string[] = [];
  let ok = true;
  const state = infoField(String(await connection.cluster('INFO')), 'cluster_state') ?? 'unknown';
  if (state !== 'ok') {
    problems.push(`redis cluster_state is ${state}: some hash slots are not served`);
    ok = false;
  }
  const masters = masterServers(connection);
  if (masters.length === 0) throw new Error('no Redis Cluster master is known yet');
  const checks = await Promise.all(
    masters.map(async (node) => ({
      node: `${node.options.host ?? ''}:${String(node.options.port ?? '')}`,
      check: await checkServer(node, options),
    })),
  );
  const versions = [...new Set(checks.map((c) => c.check.version))];
  const lowest = versions.reduce((low, v) =>
    v === 'unknown' || (low !== 'unknown' && versionBelow(v, low.split('.').map(Number))) ? v : low,
  );
  const policies = [...new Set(checks.map((c) => c.check.maxmemoryPolicy))];
  for (const { node, check } of checks) {
    problems.push(...check.problems.map((p) => `${node}: ${p}`));
    ok &&= check.ok;
  }
  return { version: lowest, maxmemoryPolicy: policies.join(','), ok, problems };
}

/** {@link checkRedis} of one server. */
async function checkServer(
  connection: Redis,
  options: { production: boolean },
): Promise<RedisCheck> {
  const problems: string[] = [];
  let ok = true;
  const version = infoField(await connection.info('server'), 'redis_version') ?? 'unknown';
  if (version === 'unknown' || versionBelow(version, minimumVersion)) {
    problems.push(`redis ${version} is older than ${minimumVersion.join('.')}, which BullMQ needs`);
    ok = false;
  }

  let policy = 'unknown';
  try {
    const reply = (await connection.config('GET', 'maxmemory-policy')) as unknown;
    if (Array.isArray(reply) && typeof reply[1] === 'string') policy = reply[1];
  } catch (err) {
    problems.push(
      `CONFIG GET is not allowed (${toError(err).message}); reading INFO memory instead`,
    );
  }
  if (policy === 'unknown') {
    try {
      policy = infoField(await connection.info('memory'), 'maxmemory_policy') ?? 'unknown';
    } catch {
      // Some managed offerings restrict INFO sections too; reported below.
    }
  }
  if (policy === 'unknown') {
    problems.push('maxmemory-policy is unknown; make sure it is "noeviction"');
  } else if (policy !== 'noeviction') {
    problems.push(
      `maxmemory-policy is "${policy}": Redis may evict queue keys; set it to "noeviction"`,
    );
    if (options.production) ok = false;
  }
  return { version, maxmemoryPolicy: policy, ok, problems };
}
