import { Gauge, type Registry } from 'prom-client';
import { queueDepthStates } from '@agentry/schema';
import { getOrCreateMetric } from './get-or-create-metric';

export { queueDepthStates } from '@agentry/schema';

/** BullMQ reports `waiting` under its internal key `wait`. */
const aliases: Readonly<Record<string, string>> = { wait: 'waiting' };

/**
 * Queue backlog, the signal KEDA scales on and on-call alerts watch:
 *
 * - `agentry_queue_jobs{queue,state}` — gauge of jobs per state ({@link queueDepthStates}).
 * - `agentry_queue_oldest_waiting_age_seconds{queue}` — gauge, age of the oldest waiting job.
 *
 * Knows nothing of BullMQ: the queue package's collector reads the counts and calls {@link set}.
 */
export class QueueDepthMetrics {
  readonly #depth: Gauge<'queue' | 'state'>;
  readonly #oldestAge: Gauge<'queue'>;

  constructor(registry: Registry) {
    this.#depth = getOrCreateMetric(registry, Gauge<'queue' | 'state'>, {
      name: 'agentry_queue_jobs',
      help: 'Jobs in the queue by state.',
      labelNames: ['queue', 'state'] as const,
    });
    this.#oldestAge = getOrCreateMetric(registry, Gauge<'queue'>, {
      name: 'agentry_queue_oldest_waiting_age_seconds',
      help: 'Age in seconds of the oldest waiting job of the queue (0 when none waits).',
      labelNames: ['queue'] as const,
    });
  }

  /**
   * Sets the depth of `queue` from `counts` as returned by BullMQ `queue.getJobCounts()` (`wait`
   * is read as `waiting`). States outside {@link queueDepthStates} and non-finite values are
   * ignored, so a label set stays bounded; a known state missing from `counts` keeps its last
   * value. `oldestWaitingAgeSeconds`, when given, sets the age gauge. Never throws.
   */
  set(queue: string, counts: Record<string, number>, oldestWaitingAgeSeconds?: number): void {
    for (const [key, value] of Object.entries(counts)) {
      const state = aliases[key] ?? key;
      if (!(queueDepthStates as readonly string[]).includes(state) || !Number.isFinite(value))
        continue;
      this.#depth.set({ queue, state }, value);
    }
    if (oldestWaitingAgeSeconds !== undefined && Number.isFinite(oldestWaitingAgeSeconds)) {
      this.#oldestAge.set({ queue }, Math.max(0, oldestWaitingAgeSeconds));
    }
  }
}
