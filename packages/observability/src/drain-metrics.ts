import { Histogram, type Registry } from 'prom-client';
import { getOrCreateMetric } from './get-or-create-metric';

/**
 * `agentry_worker_drain_duration_seconds` — histogram of how long a worker's graceful drain took
 * (SIGTERM or close → the worker stopped), to set the pod's grace period by.
 */
export class DrainMetrics {
  readonly #drain: Histogram;

  constructor(registry: Registry) {
    this.#drain = getOrCreateMetric(registry, Histogram, {
      name: 'agentry_worker_drain_duration_seconds',
      help: 'How long a graceful drain of the worker took.',
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 25, 60, 120, 300],
    });
  }

  observe(durationMs: number): void {
    if (Number.isFinite(durationMs)) this.#drain.observe(Math.max(0, durationMs) / 1_000);
  }
}
