import type { RunState, StepState } from '@agentry/schema';
import { Counter, Histogram, type Registry } from 'prom-client';
import { getOrCreateMetric } from './get-or-create-metric';
import { jobDurationBuckets } from './job-metrics';

/** Where a run ended up (or paused), as counted by {@link RunMetrics.countRun}. */
export type RunOutcome = Extract<
  RunState,
  'succeeded' | 'failed' | 'rejected' | 'cancelled' | 'awaiting_approval'
>;

/** How one step execution ended, as recorded by {@link RunMetrics.observeStep}. A timeout is `failed`. */
export type StepOutcome = Extract<
  StepState,
  'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'compensated'
>;

/** One observation for {@link RunMetrics.observeStep}. */
export interface StepObservation {
  /** Registered tool name, e.g. `http.request` (never a step id). */
  tool: string;
  outcome: StepOutcome;
  /** Wall time of the execution in milliseconds. */
  durationMs: number;
}

/**
 * Run and step outcomes of the planner and executor:
 *
 * - `agentry_runs_total{outcome}` — counter of runs reaching a {@link RunOutcome}.
 * - `agentry_steps_total{tool,outcome}` — counter of step executions by tool name.
 * - `agentry_step_duration_seconds{tool,outcome}` — histogram, buckets 1 ms … 5 min.
 *
 * `tool` is the registered tool name (a bounded set); never a run or step id.
 */
export class RunMetrics {
  readonly #runs: Counter<'outcome'>;
  readonly #steps: Counter<'tool' | 'outcome'>;
  readonly #stepDuration: Histogram<'tool' | 'outcome'>;

  constructor(registry: Registry) {
    this.#runs = getOrCreateMetric(registry, Counter<'outcome'>, {
      name: 'agentry_runs_total',
      help: 'Runs that reached an outcome (awaiting_approval counts the pause, not the end).',
      labelNames: ['outcome'] as const,
    });
    this.#steps = getOrCreateMetric(registry, Counter<'tool' | 'outcome'>, {
      name: 'agentry_steps_total',
      help: 'Step executions by tool and outcome.',
      labelNames: ['tool', 'outcome'] as const,
    });
    this.#stepDuration = getOrCreateMetric(registry, Histogram<'tool' | 'outcome'>, {
      name: 'agentry_step_duration_seconds',
      help: 'Wall time of one step execution, by tool and outcome.',
      labelNames: ['tool', 'outcome'] as const,
      buckets: [...jobDurationBuckets],
    });
  }

  /** Counts a run reaching `outcome`. Never throws. */
  countRun(outcome: RunOutcome): void {
    this.#runs.inc({ outcome });
  }

  /** Counts one step execution and records its duration (clamped to ≥ 0). Never throws. */
  observeStep({ tool, outcome, durationMs }: StepObservation): void {
    const seconds = Number.isFinite(durationMs) ? Math.max(0, durationMs) / 1000 : 0;
    this.#steps.inc({ tool, outcome });
    this.#stepDuration.observe({ tool, outcome }, seconds);
  }
}
