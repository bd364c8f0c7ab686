import type { Redis } from 'ioredis';
import { toError } from '@agentry/schema';

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
 */
export async function checkRedis(
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
