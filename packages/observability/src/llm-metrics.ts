import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { getOrCreateMetric } from './get-or-create-metric';

/** One finished model request, as {@link LlmMetrics.observeCall} takes it. */
export interface LlmCallObservation {
  provider: string;
  model: string;
  /** `ok`, `invalid` (answered, failed validation) or `error`. */
  outcome: string;
  latencyMs: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** Circuit states as the gauge reports them. */
const breakerValue = { CLOSED: 0, HALF_OPEN: 1, OPEN: 2 } as const;
export type BreakerStateName = keyof typeof breakerValue;

const latencyBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];

/**
 * Model calls and the policies around them. Labels are bounded: provider and model names come
 * from configuration, never from a request or an answer.
 *
 * - `agentry_llm_request_duration_seconds{provider,model,outcome}` — histogram of one call.
 * - `agentry_llm_tokens_total{provider,model,direction}` — `direction` is `input` or `output`.
 * - `agentry_llm_cost_usd_total{provider,model}` — priced from the price table.
 * - `agentry_llm_retries_total{provider,model,code}` — retries the policy made, by error code.
 * - `agentry_llm_timeouts_total{provider,model}` — calls cut off at the attempt deadline.
 * - `agentry_llm_breaker_state{provider,model}` — 0 closed, 1 half-open, 2 open.
 * - `agentry_llm_breaker_transitions_total{provider,model,to}`.
 * - `agentry_planner_hops_total{planner,outcome,code}` — each planner tried for a plan: `planned`
 *   or `skipped` (with the reason's error code; `none` when planned). `planner` is
 *   `llm:<provider>:<model>`, `template` or `fallback`.
 */
export class LlmMetrics {
  readonly #duration: Histogram<'provider' | 'model' | 'outcome'>;
  readonly #tokens: Counter<'provider' | 'model' | 'direction'>;
  readonly #cost: Counter<'provider' | 'model'>;
  readonly #retries: Counter<'provider' | 'model' | 'code'>;
  readonly #timeouts: Counter<'provider' | 'model'>;
  readonly #breaker: Gauge<'provider' | 'model'>;
  readonly #transitions: Counter<'provider' | 'model' | 'to'>;
  readonly #hops: () => Counter<'planner' | 'outcome' | 'code'>;

  constructor(registry: Registry) {
    this.#duration = getOrCreateMetric(registry, Histogram<'provider' | 'model' | 'outcome'>, {
      name: 'agentry_llm_request_duration_seconds',
      help: 'Duration of one model request (its retries included), by outcome.',
      labelNames: ['provider', 'model', 'outcome'] as const,
      buckets: latencyBuckets,
    });
    this.#tokens = getOrCreateMetric(registry, Counter<'provider' | 'model' | 'direction'>, {
      name: 'agentry_llm_tokens_total',
      help: 'Tokens the providers reported, input and output.',
      labelNames: ['provider', 'model', 'direction'] as const,
    });
    this.#cost = getOrCreateMetric(registry, Counter<'provider' | 'model'>, {
      name: 'agentry_llm_cost_usd_total',
      help: 'Cost of model calls in US dollars, from the price table.',
      labelNames: ['provider', 'model'] as const,
    });
    this.#retries = getOrCreateMetric(registry, Counter<'provider' | 'model' | 'code'>, {
      name: 'agentry_llm_retries_total',
      help: 'Retries of model calls, by the error that caused them.',
      labelNames: ['provider', 'model', 'code'] as const,
    });
    this.#timeouts = getOrCreateMetric(registry, Counter<'provider' | 'model'>, {
      name: 'agentry_llm_timeouts_total',
      help: 'Model calls cut off at the attempt deadline.',
      labelNames: ['provider', 'model'] as const,
    });
    this.#breaker = getOrCreateMetric(registry, Gauge<'provider' | 'model'>, {
      name: 'agentry_llm_breaker_state',
      help: 'Circuit breaker state per provider: 0 closed, 1 half-open, 2 open.',
      labelNames: ['provider', 'model'] as const,
    });
    this.#transitions = getOrCreateMetric(registry, Counter<'provider' | 'model' | 'to'>, {
      name: 'agentry_llm_breaker_transitions_total',
      help: 'Circuit breaker transitions, by the state entered.',
      labelNames: ['provider', 'model', 'to'] as const,
    });
    // Registered on first use: only the planner counts hops, so the executor does not export it.
    this.#hops = () =>
      getOrCreateMetric(registry, Counter<'planner' | 'outcome' | 'code'>, {
        name: 'agentry_planner_hops_total',
        help: 'Planners tried for a plan: planned, or skipped with the reason code (fallbacks).',
        labelNames: ['planner', 'outcome', 'code'] as const,
      });
  }

  /** Record one finished model request. Never throws. */
  observeCall(call: LlmCallObservation): void {
    const labels = { provider: call.provider, model: call.model };
    const seconds = Number.isFinite(call.latencyMs) ? Math.max(0, call.latencyMs) / 1000 : 0;
    this.#duration.observe({ ...labels, outcome: call.outcome }, seconds);
    if (call.inputTokens > 0) this.#tokens.inc({ ...labels, direction: 'input' }, call.inputTokens);
    if (call.outputTokens > 0) {
      this.#tokens.inc({ ...labels, direction: 'output' }, call.outputTokens);
    }
    if (call.costUsd > 0) this.#cost.inc(labels, call.costUsd);
  }

  countRetry(provider: string, model: string, code: string): void {
    this.#retries.inc({ provider, model, code });
  }

  countTimeout(provider: string, model: string): void {
    this.#timeouts.inc({ provider, model });
  }

  /** Set the state gauge; `transition: true` also counts a transition into `state`. */
  breakerState(provider: string, model: string, state: BreakerStateName, transition = true): void {
    this.#breaker.set({ provider, model }, breakerValue[state]);
    if (transition) this.#transitions.inc({ provider, model, to: state });
  }

  countHop(planner: string, outcome: 'planned' | 'skipped', code = 'none'): void {
    this.#hops().inc({ planner, outcome, code });
  }
}
