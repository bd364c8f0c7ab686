import { fail, pass, skip, warn, type DoctorCheck } from './doctor-check';
import { infoField } from './redis-info';

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Memory headroom: used_memory against maxmemory (FAIL ≥ 90 %, WARN ≥ 80 %, WARN unbounded). */
export const memoryCheck: DoctorCheck = {
  name: 'redis.memory',
  async run(ctx) {
    const redis = await ctx.redis();
    if (!redis.ok) return skip('not checked: Redis is unreachable');
    const info = await redis.value.info('memory');
    const used = Number(infoField(info, 'used_memory'));
    const max = Number(infoField(info, 'maxmemory'));
    if (!Number.isFinite(used) || !Number.isFinite(max)) {
      return warn(
        'INFO memory does not report used_memory and maxmemory',
        "watch the server's memory with its provider's tools",
      );
    }
    if (max === 0) {
      return warn(
        `used ${mib(used)}, maxmemory 0 (unbounded): Redis grows until the host runs out of memory`,
        'bound it below what the host can give: CONFIG SET maxmemory 2gb, then CONFIG REWRITE (redis.conf line: "maxmemory 2gb"), with maxmemory-policy noeviction so a full Redis refuses writes instead of dropping jobs',
      );
    }
    const share = used / max;
    const finding = `used ${mib(used)} of ${mib(max)} (${Math.round(share * 100)} %)`;
    const remedy =
      'raise maxmemory (CONFIG SET maxmemory <size>, then CONFIG REWRITE), or free memory: the queue lines show how many completed and failed jobs are kept';
    if (share >= 0.9) return fail(`${finding}: writes will soon be refused`, remedy);
    if (share >= 0.8) return warn(`${finding}: little headroom`, remedy);
    return pass(finding);
  },
};
