import { fail, pass, warn, type DoctorCheck } from './doctor-check';
import { infoField, versionAtLeast } from './redis-info';

/** Redis answers, and is 6.2 or later (BullMQ's minimum); 7.x is recommended. */
export const redisVersionCheck: DoctorCheck = {
  name: 'redis',
  async run(ctx) {
    const where = ctx.redisWhere;
    const redis = await ctx.redis();
    if (!redis.ok) {
      return fail(
        `cannot reach Redis at ${where}: ${redis.error}`,
        ctx.config.redisCluster === undefined
          ? `start Redis, or correct AGENTRY_REDIS_URL (now ${where}); a password goes in AGENTRY_REDIS_PASSWORD_REF (a secret reference)`
          : `start the Redis Cluster, or correct AGENTRY_REDIS_CLUSTER_NODES (now ${where}); TLS is AGENTRY_REDIS_CLUSTER_TLS, a password goes in AGENTRY_REDIS_PASSWORD_REF`,
      );
    }
    const version = infoField(await redis.value.info('server'), 'redis_version') ?? 'unknown';
    if (!versionAtLeast(version, [6, 2])) {
      return fail(
        `Redis ${version} at ${where}: BullMQ needs 6.2 or later`,
        'upgrade Redis to 7.x (6.2 at the very least)',
      );
    }
    if (!versionAtLeast(version, [7])) {
      return warn(
        `Redis ${version} at ${where}: works, but 7.x is recommended`,
        'upgrade Redis to 7.x at the next maintenance window',
      );
    }
    return pass(`Redis ${version} at ${where}`);
  },
};
