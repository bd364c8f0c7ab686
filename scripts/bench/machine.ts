import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { Redis } from 'ioredis';
import { createPgPool, redisUrl } from './bench-env';

/** What the figures were measured on. */
export interface Machine {
  cores: number;
  cpu: string;
  memoryGb: number;
  node: string;
  redis: string;
  postgres: string;
  /** 1-minute load average when the bench started (other work on a shared box shows here). */
  loadAtStart: number;
}

export async function describeMachine(): Promise<Machine> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  let redisVersion = 'unknown';
  try {
    await redis.connect();
    redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  } finally {
    redis.disconnect();
  }
  const pool = createPgPool('public', 1);
  let postgres = 'unknown';
  try {
    const { rows } = await pool.query('show server_version');
    postgres = String(rows[0]?.server_version ?? 'unknown');
  } finally {
    await pool.end();
  }
  return {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    redis: redisVersion,
    postgres,
    loadAtStart: loadavg()[0] ?? Number.NaN,
  };
}

export function describeMachineLine(m: Machine): string {
  return `${m.cores} cores (${m.cpu}), ${m.memoryGb} GB RAM, Node ${m.node}, Redis ${m.redis}, PostgreSQL ${m.postgres}; 1-min load average at start ${m.loadAtStart.toFixed(2)}`;
}
