import { Redis } from 'ioredis';
import { redisUrl, type TestFleet } from '../support/fleet';

/**
 * Where the bad-input scenario looks for secret values: every log line and stderr chunk of every
 * process it started (replaced ones included); and, for values the fleet holds as configuration
 * (not in the users' own input), also every row of the tables a run or a dead letter writes,
 * every Redis value under the fleet's prefix and the API's metrics. One problem per place found.
 */
export async function findSecretValues(
  fleet: TestFleet,
  secrets: Readonly<Record<string, string>>,
  options: {
    /** Names of values a user put in their own input: looked for in logs only. */
    logsOnly?: readonly string[];
  } = {},
): Promise<{ leaks: string[]; scanned: number }> {
  const leaks = new Set<string>();
  let scanned = 0;
  const all = Object.entries(secrets);
  const configured = all.filter(([name]) => !options.logsOnly?.includes(name));
  const scan = (where: string, text: string, values: typeof all): void => {
    scanned += 1;
    for (const [name, value] of values) if (text.includes(value)) leaks.add(`${name} in ${where}`);
  };

  for (const p of fleet.processes) {
    for (const line of p.lines) scan(`${p.app} ${String(p.pid)} log`, JSON.stringify(line), all);
    scan(`${p.app} ${String(p.pid)} stderr`, p.stderr.join(''), all);
  }
  const { db } = fleet.database;
  const tables = [
    'runs',
    'plans',
    'steps',
    'stepAttempts',
    'deadLetters',
    'llmCalls',
    'auditLog',
  ] as const;
  for (const table of tables)
    for (const row of await db.selectFrom(table).selectAll().execute())
      scan(`table ${table}`, JSON.stringify(row), configured);

  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const pattern = `${fleet.prefix.replace(/([*?[\]\\])/g, '\\$1')}*`;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) scan(`Redis ${key}`, await dump(redis, key), configured);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  scan('API metrics', await (await fetch(`${fleet.apiUrl}/metrics`)).text(), configured);
  return { leaks: [...leaks], scanned };
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
