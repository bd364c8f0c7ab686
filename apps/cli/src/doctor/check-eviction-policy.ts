import { fail, pass, skip, warn, type DoctorCheck } from './doctor-check';
import { configGet, infoField } from './redis-info';

/** `maxmemory-policy` must be `noeviction`: any other policy lets Redis delete job keys. */
export const evictionPolicyCheck: DoctorCheck = {
  name: 'redis.eviction',
  async run(ctx) {
    const redis = await ctx.redis();
    if (!redis.ok) return skip('not checked: Redis is unreachable');
    const policy =
      (await configGet(redis.value, 'maxmemory-policy')) ??
      infoField(await redis.value.info('memory'), 'maxmemory_policy');
    if (policy === undefined) {
      return warn(
        'maxmemory-policy unknown: CONFIG GET is refused and INFO memory does not say',
        'make sure the server runs with maxmemory-policy noeviction (managed Redis: its parameter group)',
      );
    }
    if (policy !== 'noeviction') {
      return fail(
        `maxmemory-policy is ${policy}: when memory runs short Redis deletes keys, and BullMQ loses jobs and locks`,
        'redis-cli CONFIG SET maxmemory-policy noeviction, then CONFIG REWRITE (redis.conf line: "maxmemory-policy noeviction"; managed Redis: its parameter group)',
      );
    }
    return pass('maxmemory-policy noeviction');
  },
};
