import type { RedisClient } from '@agentry/queue';
import { prefixPattern, scanKeys, whenReady } from '@agentry/queue/testing';
import type { TestFleet } from '../../support/fleet';
import type { ChaosFleet } from './chaos-fleet';

/**
 * Look for secret values in everything a scenario left: every log line and stderr chunk of every
 * process (killed and replaced ones included) for every value; and, for the values the fleet holds
 * as configuration (not those a user typed into their own input, `logsOnly`), also every row a run
 * or a dead letter writes, the `extra` records given (e.g. dead letters read over the API), every
 * Redis value under the fleet's prefix and the API's metrics. One problem per place found.
 */
export async function findSecretValues(
  fleet: Pick<TestFleet, 'processes' | 'database' | 'prefix' | 'apiUrl' | 'connectRedis'>,
  secrets: Readonly<Record<string, string>>,
  options: { logsOnly?: readonly string[]; extra?: readonly unknown[] } = {},
): Promise<{ leaks: string[]; scanned: number }> {
  const leaks = new Set<string>();
  let scanned = 0;
  const all = Object.entries(secrets);
  const configured = all.filter(([name]) => !options.logsOnly?.includes(name));
  const scan = (where: string, text: string, values = configured): void => {
    scanned += 1;
    for (const [name, value] of values) if (text.includes(value)) leaks.add(`${name} in ${where}`);
  };

  for (const p of fleet.processes) {
    for (const line of p.lines) scan(`${p.app} ${String(p.pid)} log`, JSON.stringify(line), all);
    scan(`${p.app} ${String(p.pid)} stderr`, p.stderr.join(''), all);
  }
  for (const record of options.extra ?? []) scan('records given', JSON.stringify(record));
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
      scan(`table ${table}`, JSON.stringify(row));
  await scanRedis(fleet.connectRedis({ maxRetriesPerRequest: 1 }), fleet.prefix, scan);
  scan('API metrics', await (await fetch(`${fleet.apiUrl}/metrics`)).text());
  return { leaks: [...leaks], scanned };
}

/** {@link findSecretValues} for a chaos fleet: its secrets, its processes (killed ones too). */
export function findSecrets(
  chaos: ChaosFleet,
  deadLetters: readonly unknown[],
): Promise<{ leaks: string[]; scanned: number }> {
  const { fleet } = chaos;
  const { database, prefix, apiUrl } = fleet;
  return findSecretValues(
    {
      processes: [...chaos.processes],
      database,
      prefix,
      apiUrl,
      connectRedis: (o) => fleet.connectRedis(o),
    },
    { ...chaos.secrets },
    { extra: deadLetters },
  );
}

/** Every value under `prefix`, on the server or on every master of a Redis Cluster; owns `redis`. */
async function scanRedis(
  redis: RedisClient,
  prefix: string,
  scan: (where: string, text: string) => void,
) {
  try {
    await whenReady(redis, 15_000);
    for await (const keys of scanKeys(redis, prefixPattern(prefix)))
      for (const key of keys) scan(`Redis ${key}`, await dump(redis, key));
  } finally {
    redis.disconnect();
  }
}

/** A Redis value of any type as text. */
async function dump(redis: RedisClient, key: string): Promise<string> {
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
