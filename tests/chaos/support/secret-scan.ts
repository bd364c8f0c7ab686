import { Redis } from 'ioredis';
import { redisUrl } from '../../support/fleet';
import type { ChaosFleet } from './chaos-fleet';

/**
 * Look for the fleet's secret values in everything the scenario left: every log line and stderr
 * chunk of every process (killed ones included), the dead letters, the rows of runs, plans, steps,
 * attempts and the audit log, every Redis value under the fleet's prefix (job payloads, failure
 * reasons, events) and the API's metrics. Returns one problem per place a value was found.
 */
export async function findSecrets(
  chaos: ChaosFleet,
  deadLetters: readonly unknown[],
): Promise<{ leaks: string[]; scanned: number }> {
  const secrets = Object.entries(chaos.secrets);
  const leaks: string[] = [];
  let scanned = 0;
  const scan = (where: string, text: string): void => {
    scanned += 1;
    for (const [name, value] of secrets)
      if (text.includes(value)) leaks.push(`secret ${name} found in ${where}`);
  };

  for (const p of chaos.processes) {
    for (const line of p.lines) scan(`${p.app} ${String(p.pid)} log`, JSON.stringify(line));
    scan(`${p.app} ${String(p.pid)} stderr`, p.stderr.join(''));
  }
  for (const letter of deadLetters) scan('dead letters', JSON.stringify(letter));
  const { db } = chaos.fleet.database;
  const tables = ['runs', 'plans', 'steps', 'stepAttempts', 'auditLog'] as const;
  for (const table of tables) {
    for (const row of await db.selectFrom(table).selectAll().execute())
      scan(`table ${table}`, JSON.stringify(row));
  }
  await scanRedis(chaos.fleet.prefix, scan);
  const metrics = await fetch(`${chaos.fleet.apiUrl}/metrics`).then((r) => r.text());
  scan('API metrics', metrics);
  return { leaks: [...new Set(leaks)], scanned };
}

async function scanRedis(prefix: string, scan: (where: string, text: string) => void) {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const pattern = `${prefix.replace(/([*?[\]\\])/g, '\\$1')}*`;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) scan(`Redis ${key}`, await dump(redis, key));
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A Redis value of any type as text. */
async function dump(redis: Redis, key: string): Promise<string> {
  switch (await redis.type(key)) {
    case 'string':
      return (await redis.get(key)) ?? '';
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'list':
      return JSON.stringify(await redis.lrange(key, 0, -1));
    case 'set':
      return JSON.stringify(await redis.smembers(key));
    case 'zset':
      return JSON.stringify(await redis.zrange(key, 0, -1));
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'));
    default:
      return '';
  }
}
