import { Gauge, type Registry } from 'prom-client';
import { getOrCreateMetric } from './get-or-create-metric';

/**
 * What the API exports about the shared services, so it is known with no worker running:
 *
 * - `agentry_queue_dead_lettered_jobs{queue}` — dead letters not replayed, by source queue.
 * - `agentry_redis_memory_used_bytes` / `agentry_redis_memory_max_bytes` — Redis `used_memory`
 *   and `maxmemory` (0: no limit), for the "Redis near its limit" alert.
 */
export class FleetGauges {
  readonly #deadLettered: Gauge<'queue'>;
  readonly #redisUsed: Gauge;
  readonly #redisMax: Gauge;

  constructor(registry: Registry) {
    this.#deadLettered = getOrCreateMetric(registry, Gauge<'queue'>, {
      name: 'agentry_queue_dead_lettered_jobs',
      help: 'Dead letters not replayed, by the queue their job came from.',
      labelNames: ['queue'] as const,
    });
    this.#redisUsed = getOrCreateMetric(registry, Gauge, {
      name: 'agentry_redis_memory_used_bytes',
      help: 'Memory Redis uses (INFO memory used_memory).',
    });
    this.#redisMax = getOrCreateMetric(registry, Gauge, {
      name: 'agentry_redis_memory_max_bytes',
      help: 'Memory limit of Redis (INFO memory maxmemory; 0 means none).',
    });
  }

  /** Sets the dead-lettered count of each queue given; queues not given go to 0. Never throws. */
  setDeadLettered(counts: ReadonlyMap<string, number>, queues: readonly string[]): void {
    for (const queue of new Set([...queues, ...counts.keys()])) {
      this.#deadLettered.set({ queue }, counts.get(queue) ?? 0);
    }
  }

  setRedisMemory(usedBytes: number, maxBytes: number): void {
    if (Number.isFinite(usedBytes)) this.#redisUsed.set(usedBytes);
    if (Number.isFinite(maxBytes)) this.#redisMax.set(maxBytes);
  }
}
