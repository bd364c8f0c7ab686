import { skip, type DoctorCheck } from './doctor-check';
import { judgeClockSkew, type ClockSample } from './judge-clock-skew';

/**
 * Clock skew: Redis `TIME` and Postgres `clock_timestamp()` against this host's clock, each read
 * compared with the midpoint of its round trip. Warn above 1 s, fail above 5 s.
 */
export const clockSkewCheck: DoctorCheck = {
  name: 'clock',
  async run(ctx) {
    const samples: ClockSample[] = [];
    const redis = await ctx.redis();
    if (redis.ok) {
      const before = ctx.now();
      const [secs, micros] = await redis.value.time();
      const after = ctx.now();
      const remote = Number(secs) * 1_000 + Number(micros) / 1_000;
      samples.push({ source: 'Redis', skewMs: remote - (before + after) / 2 });
    }
    const opened = await ctx.database();
    if (opened?.ok) {
      const before = ctx.now();
      const row = await opened.value.db
        .selectNoFrom((eb) => eb.fn<Date>('clock_timestamp', []).as('now'))
        .executeTakeFirstOrThrow();
      const after = ctx.now();
      samples.push({
        source: 'Postgres',
        skewMs: new Date(row.now).getTime() - (before + after) / 2,
      });
    }
    if (samples.length === 0) return skip('not checked: neither Redis nor Postgres answered');
    return judgeClockSkew(samples);
  },
};
