import { Counter, Histogram, type Registry } from 'prom-client';
import { getOrCreateMetric } from './get-or-create-metric';

/** How one delivery of a job ended, as counted by {@link JobMetrics}. */
export type JobOutcome =
  | 'completed'
  | 'failed'
  | 'retried'
  | 'dead_lettered'
  | 'invalid'
  | 'skipped'
  | 'cancelled'
  | 'postponed';

/** Every {@link JobOutcome}. */
export const jobOutcomes: readonly JobOutcome[] = [
  'completed',
  'failed',
  'retried',
  'dead_lettered',
  'invalid',
  'skipped',
  'cancelled',
  'postponed',
];

type JobLabel = 'queue' | 'job' | 'outcome';

/** One observation for {@link JobMetrics.observe}. */
export interface JobObservation {
  /** Queue name, e.g. `agentry.step`. */
  queue: string;
  /** Job name from the catalog, e.g. `step` (never a job id). */
  job: string;
  outcome: JobOutcome;
  /** Wall time of this attempt in milliseconds. */
  durationMs: number;
  /** Attempts used, counting this one. Pass it only when the job is finished (not on `retried`). */
  attempts?: number;
}

/** Seconds, from 1 ms to 5 min: tool calls and LLM requests both land in a useful bucket. */
export const jobDurationBuckets: readonly number[] = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];

/**
 * Job throughput and latency of the worker runtime:
 *
 * - `agentry_queue_jobs_total{queue,job,outcome}` — counter of finished attempts.
 * - `agentry_queue_job_duration_seconds{queue,job,outcome}` — histogram, buckets 1 ms … 5 min.
 * - `agentry_queue_job_attempts{queue,job}` — histogram of attempts used by finished jobs.
 *
 * Labels are bounded sets (queue, catalog job name, {@link JobOutcome}); never ids.
 */
export class JobMetrics {
  readonly #jobs: Counter<JobLabel>;
  readonly #duration: Histogram<JobLabel>;
  readonly #attempts: Histogram<'queue' | 'job'>;

  constructor(registry: Registry) {
    this.#jobs = getOrCreateMetric(registry, Counter<JobLabel>, {
      name: 'agentry_queue_jobs_total',
      help: 'Job attempts finished, by queue, job name and outcome.',
      labelNames: ['queue', 'job', 'outcome'] as const,
    });
    this.#duration = getOrCreateMetric(registry, Histogram<JobLabel>, {
      name: 'agentry_queue_job_duration_seconds',
      help: 'Wall time of one job attempt, by queue, job name and outcome.',
      labelNames: ['queue', 'job', 'outcome'] as const,
      buckets: [...jobDurationBuckets],
    });
    this.#attempts = getOrCreateMetric(registry, Histogram<'queue' | 'job'>, {
      name: 'agentry_queue_job_attempts',
      help: 'Attempts a job used by the time it finished, by queue and job name.',
      labelNames: ['queue', 'job'] as const,
      buckets: [1, 2, 3, 4, 5, 7, 10, 15, 20],
    });
  }

  /** Records one finished attempt. Never throws; a negative or non-finite duration is clamped to 0. */
  observe(observation: JobObservation): void {
    const { queue, job, outcome } = observation;
    const seconds = Number.isFinite(observation.durationMs)
      ? Math.max(0, observation.durationMs) / 1000
      : 0;
    this.#jobs.inc({ queue, job, outcome });
    this.#duration.observe({ queue, job, outcome }, seconds);
    if (observation.attempts !== undefined && Number.isFinite(observation.attempts)) {
      this.#attempts.observe({ queue, job }, observation.attempts);
    }
  }
}
