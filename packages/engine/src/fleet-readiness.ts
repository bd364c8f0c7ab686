import { sql, type Kysely } from 'kysely';
import type { DB } from '@agentry/db';
import type { Logger, ReadinessCheck } from '@agentry/observability';
import { checkRedis, type RedisClient } from '@agentry/queue';

/**
 * Readiness checks every fleet process shares: Postgres answers, Redis answers, and Redis is set
 * up as BullMQ requires. An eviction policy other than `noeviction` (Redis may silently drop
 * queue keys) or a Redis older than 6.2 is logged once as a warning in development and fails
 * readiness in production.
 */
export function fleetReadiness(options: {
  db: Kysely<DB>;
  redis: RedisClient;
  production: boolean;
  log: Logger;
}): Record<string, ReadinessCheck> {
  const warned = new Set<string>();
  return {
    postgres: async () => {
      await sql`select 1`.execute(options.db);
    },
    redis: async () => {
      const check = await checkRedis(options.redis, { production: options.production });
      for (const problem of check.problems) {
        if (warned.has(problem)) continue;
        warned.add(problem);
        options.log.warn(
          { redisVersion: check.version, maxmemoryPolicy: check.maxmemoryPolicy },
          problem,
        );
      }
      if (!check.ok) throw new Error(check.problems.join('; '));
    },
  };
}
