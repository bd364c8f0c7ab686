import type { ErrorCode } from '@agentry/schema';
import { Counter, type Registry } from 'prom-client';
import { getOrCreateMetric } from './get-or-create-metric';

/**
 * Dead letters written, the alert that something needs a human:
 *
 * - `agentry_queue_dead_letters_total{queue,code}` — counter by source queue and {@link ErrorCode}.
 */
export class DeadLetterMetrics {
  readonly #deadLetters: Counter<'queue' | 'code'>;

  constructor(registry: Registry) {
    this.#deadLetters = getOrCreateMetric(registry, Counter<'queue' | 'code'>, {
      name: 'agentry_queue_dead_letters_total',
      help: 'Jobs moved to the dead-letter queue, by source queue and error code.',
      labelNames: ['queue', 'code'] as const,
    });
  }

  /** Counts one dead letter from `queue` (the source queue, not `agentry.dlq`). Never throws. */
  inc(queue: string, code: ErrorCode): void {
    this.#deadLetters.inc({ queue, code });
  }
}
