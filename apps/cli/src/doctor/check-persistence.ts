import { pass, skip, warn, type DoctorCheck } from './doctor-check';
import { configGet, infoField } from './redis-info';

const fix =
  'redis-cli CONFIG SET appendonly yes, then CONFIG REWRITE (redis.conf lines: "appendonly yes" and "appendfsync everysec"); managed Redis: turn persistence on';

/** AOF on, or at least an RDB save schedule: without either a Redis restart empties every queue. */
export const persistenceCheck: DoctorCheck = {
  name: 'redis.persistence',
  async run(ctx) {
    const redis = await ctx.redis();
    if (!redis.ok) return skip('not checked: Redis is unreachable');
    const client = redis.value;
    const appendonly =
      (await configGet(client, 'appendonly')) ??
      (infoField(await client.info('persistence'), 'aof_enabled') === '1' ? 'yes' : 'no');
    if (appendonly === 'yes') {
      const fsync = await configGet(client, 'appendfsync');
      return pass(`AOF on${fsync === undefined ? '' : ` (appendfsync ${fsync})`}`);
    }
    const save = await configGet(client, 'save');
    if (save === undefined) {
      return warn('AOF off, and the RDB save schedule is unknown (CONFIG GET is refused)', fix);
    }
    if (save.trim() !== '') {
      return pass(
        `RDB snapshots (save ${save}), AOF off: jobs queued since the last snapshot are lost on a crash`,
      );
    }
    return warn(
      'no persistence (AOF off, no RDB save schedule): every queued job vanishes when Redis restarts',
      fix,
    );
  },
};
