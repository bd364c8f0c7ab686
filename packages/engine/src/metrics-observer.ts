import type { Registry } from 'prom-client';
import { DeadLetterMetrics, JobMetrics } from '@agentry/observability';
import type { QueueObserver } from '@agentry/queue';
import { errorCodeList, type ErrorCode } from '@agentry/schema';

/** Wire the worker runtime's events to the Prometheus metric classes of a registry. */
export function metricsObserver(registry: Registry): QueueObserver {
  const jobs = new JobMetrics(registry);
  const deadLetters = new DeadLetterMetrics(registry);
  return {
    jobFinished: (e) => jobs.observe(e),
    deadLettered: (e) =>
      deadLetters.inc(
        e.queue,
        (errorCodeList as readonly string[]).includes(e.code) ? (e.code as ErrorCode) : 'INTERNAL',
      ),
  };
}
