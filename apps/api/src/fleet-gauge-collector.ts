import type { Repositories } from '@agentry/db';
import type { FleetGauges } from '@agentry/observability';
import type { Redis } from 'ioredis';

/** `used_memory` and `maxmemory` from an `INFO memory` answer; NaN for a missing field. */
export function redisMemory(info: string): { usedBytes: number; maxBytes: number } {
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1]);
  return { usedBytes: field('used_memory'), maxBytes: field('maxmemory') };
}

/**
 * Every `intervalMs`, the unreplayed dead letters by queue (Postgres) and Redis memory use
 * against its limit, into {@link FleetGauges}. A failed round is logged and skipped; rounds never
 * overlap. `close` stops it.
 */
export function startFleetGaugeCollector(options: {
  gauges: FleetGauges;
  repos: Pick<Repositories, 'deadLetters'>;
  redis: Redis;
  queues: readonly string[];
  intervalMs: number;
  log: { warn(obj: object, msg: string): void };
}): { collectOnce(): Promise<void>; close(): void } {
  const { gauges, repos, redis, queues, log } = options;
  let running = false;
  const collectOnce = async () => {
    if (running) return;
    running = true;
    try {
      const [counts, info] = await Promise.all([
        repos.deadLetters.unreplayedBySource(),
        redis.info('memory'),
      ]);
      gauges.setDeadLettered(counts, queues);
      const memory = redisMemory(info);
      gauges.setRedisMemory(memory.usedBytes, memory.maxBytes);
    } catch (err) {
      log.warn({ err }, 'fleet gauges not collected; will try again');
    } finally {
      running = false;
    }
  };
  void collectOnce();
  const timer = setInterval(() => void collectOnce(), options.intervalMs);
  timer.unref();
  return { collectOnce, close: () => clearInterval(timer) };
}
