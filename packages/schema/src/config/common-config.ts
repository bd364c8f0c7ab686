import { z } from 'zod';
import { env, envInt, envString } from './env-types';

/**
 * Variables every agentry process reads. Each app extends this with its own.
 * The README's configuration table documents them all.
 */
export const commonEnv = z.object({
  /** development | production: production refuses unsafe settings (Redis eviction, ...). */
  AGENTRY_ENV: env(z.enum(['development', 'production', 'test']).default('development')),
  /** Redis that holds the queues. */
  AGENTRY_REDIS_URL: env(z.string().url().default('redis://127.0.0.1:6379')),
  /** Base of the Redis key prefix; wrapped in {} so each queue stays in one Redis Cluster slot. */
  AGENTRY_QUEUE_PREFIX: env(
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,32}$/)
      .default('agentry'),
  ),
  /** PostgreSQL connection string; unset → embedded PGlite under AGENTRY_DATA_DIR. */
  DATABASE_URL: envString(),
  /** Postgres schema to use (search_path); unset → the server default (public). */
  AGENTRY_DB_SCHEMA: envString(),
  /** Where the embedded database lives when DATABASE_URL is unset. */
  AGENTRY_DATA_DIR: env(z.string().default('.agentry')),
  /** trace | debug | info | warn | error | fatal. */
  AGENTRY_LOG_LEVEL: env(
    z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  ),
  /** Port of the /metrics, /healthz, /readyz server; 0 picks a free port. */
  AGENTRY_HEALTH_PORT: envInt(9464, { max: 65535 }),
  /** How long a SIGTERM drain may take before in-flight jobs are cancelled. Keep below the pod's grace period. */
  AGENTRY_SHUTDOWN_DEADLINE_MS: envInt(25_000, { min: 100, max: 10 * 60_000 }),
});
export type CommonEnv = z.output<typeof commonEnv>;

/** Settings every process derives from {@link commonEnv}, in the units code uses. */
export interface CommonConfig {
  env: 'development' | 'production' | 'test';
  redisUrl: string;
  queuePrefix: string;
  databaseUrl: string | undefined;
  databaseSchema: string | undefined;
  dataDir: string;
  logLevel: string;
  healthPort: number;
  shutdownDeadlineMs: number;
}

export function toCommonConfig(env: CommonEnv): CommonConfig {
  return {
    env: env.AGENTRY_ENV,
    redisUrl: env.AGENTRY_REDIS_URL,
    queuePrefix: env.AGENTRY_QUEUE_PREFIX,
    databaseUrl: env.DATABASE_URL,
    databaseSchema: env.AGENTRY_DB_SCHEMA,
    dataDir: env.AGENTRY_DATA_DIR,
    logLevel: env.AGENTRY_LOG_LEVEL,
    healthPort: env.AGENTRY_HEALTH_PORT,
    shutdownDeadlineMs: env.AGENTRY_SHUTDOWN_DEADLINE_MS,
  };
}
