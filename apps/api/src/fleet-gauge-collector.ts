import type { Repositories } from '@agentry/db';
import type { FleetGauges } from '@agentry/observability';
import { serverOf, type RedisClient } from '@agentry/queue';

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
  redis: RedisClient;
  /** The fleet's key prefix: on a Redis Cluster, the memory is that of its queues' master. */
  prefix?: string;
  queues: readonly string[];
  intervalMs: number;
  log: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
}): { collectOnce(): Promise<void>; close(): void } {
  const { gauges, repos, redis, queues, log } = options;
  let running = false;
  // While a dependency is down every round fails the same way: one warning per distinct error.
  let lastFailure = '';
  const collectOnce = async () => {
    if (running) return;
    running = true;
    try {
      const [counts, info] = await Promise.all([
        repos.deadLetters.unreplayedBySource(),
        (options.prefix === undefined
          ? Promise.resolve(redis)
          : serverOf(redis, `${options.prefix}:memory`)
        ).then((server) => server.info('memory')),
      ]);
      gauges.setDeadLettered(counts, queues);
      const memory = redisMemory(info);
      gauges.setRedisMemory(memory.usedBytes, memory.maxBytes);
      lastFailure = '';
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const repeated = message === lastFailure;
      lastFailure = message;
      log[repeated ? 'debug' : 'warn']({ err }, 'fleet gauges not collected; will try again');
    } finally {
      running = false;
    }
  };
  void collectOnce();
  const timer = setInterval(() => void collectOnce(), options.intervalMs);
  timer.unref();
  return { collectOnce, close: () => clearInterval(timer) };
}
