import type { StepState } from '@agentry/schema';
import { Counter, Histogram, type Registry } from 'prom-client';
import { getOrCreateMetric } from './get-or-create-metric';
import { jobDurationBuckets } from './job-metrics';

/** How one step execution ended, as recorded by {@link StepMetrics.observeStep}. A timeout is `failed`. */
export type StepOutcome = Extract<
  StepState,
  'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'compensated'
>;

/** One observation for {@link StepMetrics.observeStep}. */
export interface StepObservation {
  /** Registered tool name, e.g. `http.request` (never a step id). */
  tool: string;
  outcome: StepOutcome;
  /** Wall time of the execution in milliseconds. */
  durationMs: number;
  /** Which attempt of the step this was (1 for the first). */
  attempt: number;
}

/**
 * Step executions of the executor:
 *
 * - `agentry_executor_steps_total{tool,outcome}` — counter of step executions by tool name.
 * - `agentry_executor_step_duration_seconds{tool,outcome}` — histogram, buckets 1 ms … 5 min.
 * - `agentry_executor_step_attempts{tool,outcome}` — histogram of the attempt number a step
 *   ended on (1 = first try).
 *
 * `tool` is the registered tool name (a bounded set); never a run or step id.
 */
export class StepMetrics {
  readonly #steps: Counter<'tool' | 'outcome'>;
  readonly #duration: Histogram<'tool' | 'outcome'>;
  readonly #attempts: Histogram<'tool' | 'outcome'>;

  constructor(registry: Registry) {
    this.#steps = getOrCreateMetric(registry, Counter<'tool' | 'outcome'>, {
      name: 'agentry_executor_steps_total',
      help: 'Step executions by tool and outcome.',
      labelNames: ['tool', 'outcome'] as const,
    });
    this.#duration = getOrCreateMetric(registry, Histogram<'tool' | 'outcome'>, {
      name: 'agentry_executor_step_duration_seconds',
      help: 'Wall time of one step execution, by tool and outcome.',
      labelNames: ['tool', 'outcome'] as const,
      buckets: [...jobDurationBuckets],
    });
    this.#attempts = getOrCreateMetric(registry, Histogram<'tool' | 'outcome'>, {
      name: 'agentry_executor_step_attempts',
      help: 'The attempt a step execution was (1 = first try), by tool and outcome.',
      labelNames: ['tool', 'outcome'] as const,
      buckets: [1, 2, 3, 5, 10],
    });
  }

  /** Counts one step execution, its duration (clamped to ≥ 0) and its attempt. Never throws. */
  observeStep({ tool, outcome, durationMs, attempt }: StepObservation): void {
    const seconds = Number.isFinite(durationMs) ? Math.max(0, durationMs) / 1000 : 0;
    this.#steps.inc({ tool, outcome });
    this.#duration.observe({ tool, outcome }, seconds);
    if (Number.isFinite(attempt)) this.#attempts.observe({ tool, outcome }, attempt);
  }
}
