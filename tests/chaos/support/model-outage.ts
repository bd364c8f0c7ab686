import { randomBytes } from 'node:crypto';
import type { LlmPolicyOptions } from '@agentry/llm';
import {
  startFakeLlmServer,
  type FakeAnswer,
  type FakeLlmServer,
  type RecordedRequest,
} from '@agentry/llm/testing';
import { chaosRunSteps } from './chaos-templates';

/**
 * The primary provider's outage: every call gets one of these, in turn — a 500, a 429 with
 * `Retry-After: 1` (short enough to be honoured), a hang (the client's timeout must cut it), a 200
 * whose body is not JSON, a plan that fails the plan schema, and a 200 whose text is no plan.
 */
export const outageMix: readonly FakeAnswer[] = [
  { kind: 'status', status: 500 },
  { kind: 'status', status: 429, retryAfter: '1' },
  { kind: 'hang' },
  { kind: 'garbage' },
  { kind: 'invalid-plan' },
  { kind: 'ok', content: 'Sure! Here is the plan you asked for: first, deploy.' },
];

/** The policies the planner runs with in scenario 8 (`AGENTRY_LLM_*`), and the planner's share. */
export const outagePolicy: LlmPolicyOptions = {
  attemptTimeoutMs: 2_000,
  maxAttempts: 3,
  backoff: { initialMs: 200, maxMs: 2_000 },
  breaker: {
    threshold: 0.5,
    windowMs: 10_000,
    minCalls: 5,
    halfOpenAfterMs: 4_000,
    halfOpenProbes: 1,
  },
  retryBudget: { maxTokens: 10, tokenRatio: 0.1 },
};

/** Plan jobs one planner works on at once (`AGENTRY_PLANNER_CONCURRENCY`). */
export const plannerConcurrency = 8;

/** The model names the planner is configured with; plans say `<provider>:<model>`. */
export const modelNames = {
  primary: 'primary-model',
  fallback: 'fallback-model',
  /** `producedBy` of a plan each provider made (providers are named after their kind). */
  primaryProducer: 'openai:primary-model',
  fallbackProducer: 'anthropic:fallback-model',
} as const;

/**
 * Two fake model servers on 127.0.0.1 for scenario 8: the primary (OpenAI API) whose outage the
 * scenario switches on and off, and a healthy fallback (Anthropic API). Both answer a
 * `chaos run <tag>` planning request with the same plan the `chaos-run` template makes (steps
 * against the effect sink), so runs planned by either do the same work. Every request is recorded
 * with its arrival time and the answer it got.
 */
export class ChaosModels {
  /** Arrival time of the first and last request the outage answered (set by start/end). */
  outage: { from: number; until: number } | undefined;
  #plan: { sinkUrl: string; delayMs: number } | undefined;

  private constructor(
    readonly primary: FakeLlmServer,
    readonly fallback: FakeLlmServer,
    /** The API keys each server accepts: secrets the fleet holds behind `env://` references. */
    readonly keys: { primary: string; fallback: string },
  ) {}

  static async start(): Promise<ChaosModels> {
    const keys = {
      primary: `chaos-llm-primary-${randomBytes(16).toString('hex')}`,
      fallback: `chaos-llm-fallback-${randomBytes(16).toString('hex')}`,
    };
    const created: { models?: ChaosModels } = {};
    // The intent, also in a repair round (whose last user message lists the problems).
    const planFor = (request: { userTexts: string[] }) =>
      created.models?.planFor(
        request.userTexts.findLast((t) => chaosRunTag(t) !== undefined) ?? '',
      );
    const [primary, fallback] = await Promise.all([
      startFakeLlmServer({ apiKey: keys.primary, planFor }),
      startFakeLlmServer({ apiKey: keys.fallback, planFor }),
    ]);
    created.models = new ChaosModels(primary, fallback, keys);
    return created.models;
  }

  /** The planner's environment: primary, fallback, {@link outagePolicy}, keys by reference. */
  get env(): Record<string, string> {
    const p = outagePolicy;
    return {
      AGENTRY_LLM_PROVIDER: 'openai',
      AGENTRY_LLM_MODEL: modelNames.primary,
      AGENTRY_LLM_BASE_URL: `${this.primary.url}/v1`,
      AGENTRY_LLM_API_KEY_REF: 'env://CHAOS_LLM_PRIMARY_KEY',
      CHAOS_LLM_PRIMARY_KEY: this.keys.primary,
      AGENTRY_LLM_FALLBACK_PROVIDER: 'anthropic',
      AGENTRY_LLM_FALLBACK_MODEL: modelNames.fallback,
      AGENTRY_LLM_FALLBACK_BASE_URL: this.fallback.url,
      AGENTRY_LLM_FALLBACK_API_KEY_REF: 'env://CHAOS_LLM_FALLBACK_KEY',
      CHAOS_LLM_FALLBACK_KEY: this.keys.fallback,
      AGENTRY_LLM_TIMEOUT_MS: String(p.attemptTimeoutMs),
      AGENTRY_LLM_MAX_ATTEMPTS: String(p.maxAttempts),
      AGENTRY_LLM_BACKOFF_INITIAL_MS: String(p.backoff.initialMs),
      AGENTRY_LLM_BACKOFF_MAX_MS: String(p.backoff.maxMs),
      AGENTRY_LLM_BREAKER_THRESHOLD: String(p.breaker.threshold),
      AGENTRY_LLM_BREAKER_WINDOW_MS: String(p.breaker.windowMs),
      AGENTRY_LLM_BREAKER_MIN_CALLS: String(p.breaker.minCalls),
      AGENTRY_LLM_BREAKER_HALF_OPEN_AFTER_MS: String(p.breaker.halfOpenAfterMs),
      AGENTRY_LLM_BREAKER_HALF_OPEN_PROBES: String(p.breaker.halfOpenProbes),
      AGENTRY_LLM_RETRY_BUDGET_TOKENS: String(p.retryBudget.maxTokens),
      AGENTRY_LLM_RETRY_BUDGET_RATIO: String(p.retryBudget.tokenRatio),
      // Two model hops with their repair rounds fit in it whatever the faults (see the test).
      AGENTRY_PLANNER_LLM_DEADLINE_MS: '60000',
      AGENTRY_PLANNER_CONCURRENCY: String(plannerConcurrency),
    };
  }

  /** Plan `chaos run` intents against this sink (the sink exists once the fleet does). */
  planAgainst(sinkUrl: string, delayMs: number): void {
    this.#plan = { sinkUrl, delayMs };
  }

  /** The primary fails every call with {@link outageMix} from now on. Returns the start time. */
  startOutage(): number {
    this.primary.setMode(outageMix);
    this.outage = { from: Date.now(), until: Number.POSITIVE_INFINITY };
    return this.outage.from;
  }

  /** The primary answers again. Returns the end time. */
  endOutage(): number {
    this.primary.clearMode();
    const until = Date.now();
    this.outage = { from: this.outage?.from ?? until, until };
    return until;
  }

  /** Requests the primary received while its outage was on. */
  duringOutage(): RecordedRequest[] {
    const { from, until } = this.outage ?? { from: 0, until: -1 };
    return this.primary.requests.filter((r) => r.at >= from && r.at <= until);
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.fallback.close()]);
  }

  private planFor(intentText: string): object | undefined {
    const tag = chaosRunTag(intentText);
    if (tag === undefined || this.#plan === undefined) return undefined;
    const steps = JSON.stringify(chaosRunSteps(this.#plan.sinkUrl, this.#plan.delayMs));
    return {
      summary: `Model plan for chaos workload ${tag}`,
      steps: JSON.parse(steps.replaceAll('{{tag}}', tag)) as unknown,
    };
  }
}

/** The intent tag a recorded planning request was about (the `chaos run` in its user messages). */
export function tagOf(request: RecordedRequest): string | undefined {
  const body = request.body as { messages?: Array<{ role?: string; content?: unknown }> } | null;
  const texts = (body?.messages ?? []).filter((m) => m.role === 'user').map((m) => m.content);
  for (const text of texts.reverse()) {
    const tag = typeof text === 'string' ? chaosRunTag(text) : undefined;
    if (tag !== undefined) return tag;
  }
  return undefined;
}

function chaosRunTag(text: string): string | undefined {
  return /^chaos run ([a-z0-9-]+)$/.exec(text)?.[1];
}
