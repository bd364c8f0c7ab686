import { isProgrammerError } from '@agentry/resilience';
import {
  structuredPlan,
  type ChatMessage,
  type CompletionRequest,
  type GuardedProvider,
  type LlmCall,
  type LlmEventListener,
  type PriceTable,
  type ToolDescription,
} from '@agentry/llm';
import {
  AppError,
  toAppError,
  type Intent,
  type PlanInput,
  type PlanningHop,
} from '@agentry/schema';
import type { TemplatePlanner } from './templates';

/** The model side of the chain; absent when no provider is configured. */
export interface ChainModels {
  /** In the order tried: primary, then secondary. */
  providers: readonly GuardedProvider[];
  toolCatalog: readonly ToolDescription[];
  prices: PriceTable;
  /** The providers' answer cap: a budget check prices a call at this many output tokens. */
  maxOutputTokens: number;
  /**
   * Time all model hops of one plan may take together; each hop gets an equal share of what is
   * left when it starts. Then the chain moves on.
   */
  deadlineMs: number;
}

export interface PlannerChainDeps {
  models?: ChainModels;
  templates: TemplatePlanner;
}

/** What the chain made of an intent. */
export interface ChainResult {
  plan: PlanInput;
  /** Every planner tried, in order; the last one planned. */
  hops: PlanningHop[];
  /** Every model call made, failed ones included. */
  calls: LlmCall[];
  /** The plan is the safe fallback: a person must approve it before anything runs. */
  needsApproval: boolean;
  /** A template that matches the intent, when a model planned it (it could have planned it). */
  templateMatch?: string;
}

export interface ChainRequest {
  /** The job's signal: when it aborts (shutdown, job deadline) planning stops, no fallback. */
  signal: AbortSignal;
  /** Hears each request's retries, timeouts and breaker transitions (the run's logger). */
  observe?: LlmEventListener;
  /** Each hop as it ends, for logs and metrics. */
  onHop?: (hop: PlanningHop) => void;
  onCall?: (call: LlmCall) => void;
  /** Earlier turns of the intent's conversation, sent to the model before the intent. */
  history?: readonly ChatMessage[];
  /**
   * Before each model call, with the provider and the request (a budget check): a rejection
   * skips that model (its code recorded on the hop) and the chain moves on.
   */
  beforeCall?: (provider: GuardedProvider, request: CompletionRequest) => Promise<void>;
}

/** `fallback:needs-approval`: who made a plan no planner could. */
export const fallbackProducer = 'fallback:needs-approval';

/**
 * Plan an intent with the first planner that can: the primary model, the secondary model, a
 * template that matches the intent, and last the safe fallback — a plan that only acknowledges
 * the intent and waits for a person. Each model hop is behind its provider's retry, breaker and
 * timeout; an invalid answer never leaves `structuredPlan`. Without models, the templates plan as
 * they always did (the acknowledge template included, no approval needed).
 *
 * Rejects only when `signal` aborts (the job is handed back, not planned by a fallback).
 */
export async function planWithChain(
  deps: PlannerChainDeps,
  intent: Intent,
  request: ChainRequest,
): Promise<ChainResult> {
  const { models, templates } = deps;
  const hops: PlanningHop[] = [];
  const calls: LlmCall[] = [];
  const hop = (entry: PlanningHop): void => {
    hops.push(entry);
    request.onHop?.(entry);
  };

  if (models === undefined || models.providers.length === 0) {
    const started = performance.now();
    const { plan } = templates.plan(intent);
    hop({ planner: 'template', outcome: 'planned', durationMs: performance.now() - started });
    return { plan, hops, calls, needsApproval: false };
  }

  // Each model hop gets an equal share of what is left, so a hung primary cannot use up the
  // time a healthy secondary needs.
  const endsAt = performance.now() + models.deadlineMs;
  for (const [index, provider] of models.providers.entries()) {
    const planner = `llm:${provider.name}:${provider.model}`;
    const started = performance.now();
    const shareMs = Math.floor((endsAt - started) / (models.providers.length - index));
    if (request.signal.aborted) throw toAppError(request.signal.reason, 'CANCELLED');
    if (shareMs <= 0) {
      hop({
        planner,
        outcome: 'skipped',
        code: 'TIMEOUT',
        reason: `the planning deadline (${models.deadlineMs} ms) had passed`,
        durationMs: 0,
      });
      continue;
    }
    const deadline = AbortSignal.timeout(shareMs);
    try {
      const result = await structuredPlan({
        provider: observed(provider, request.observe),
        toolCatalog: models.toolCatalog,
        prices: models.prices,
      }).plan(intent.text, {
        signal: AbortSignal.any([request.signal, deadline]),
        ...(request.history ? { history: request.history } : {}),
        ...(request.beforeCall && {
          beforeCall: (r: CompletionRequest) =>
            request.beforeCall?.(provider, r) ?? Promise.resolve(),
        }),
        onCall: (call) => {
          calls.push(call);
          request.onCall?.(call);
        },
      });
      hop({ planner, outcome: 'planned', durationMs: performance.now() - started });
      const { templateId } = templates.plan(intent);
      return {
        plan: result.plan,
        hops,
        calls,
        needsApproval: false,
        ...(templateId === 'acknowledge' ? {} : { templateMatch: templateId }),
      };
    } catch (caught) {
      if (request.signal.aborted) throw toAppError(request.signal.reason, 'CANCELLED');
      const error = deadline.aborted
        ? new AppError('TIMEOUT', `its share of the planning deadline (${shareMs} ms) passed`)
        : toAppError(caught, isProgrammerError(caught) ? 'INTERNAL' : 'TRANSIENT');
      hop({
        planner,
        outcome: 'skipped',
        code: error.code,
        reason: error.message.slice(0, 500),
        durationMs: performance.now() - started,
      });
    }
  }

  const started = performance.now();
  const matched = templates.plan(intent);
  if (matched.templateId !== 'acknowledge') {
    hop({ planner: 'template', outcome: 'planned', durationMs: performance.now() - started });
    return { plan: matched.plan, hops, calls, needsApproval: false };
  }
  hop({
    planner: 'template',
    outcome: 'skipped',
    code: 'NOT_FOUND',
    reason: 'no template matches the intent',
    durationMs: performance.now() - started,
  });
  hop({ planner: 'fallback', outcome: 'planned', durationMs: 0 });
  return { plan: fallbackPlan(matched.plan, hops), hops, calls, needsApproval: true };
}

/** The acknowledge plan, marked as the fallback, saying why every planner was skipped. */
function fallbackPlan(acknowledge: PlanInput, hops: readonly PlanningHop[]): PlanInput {
  const why = hops
    .filter((h) => h.outcome === 'skipped')
    .map((h) => `${h.planner}: ${h.code ?? 'skipped'}`)
    .join('; ');
  return {
    ...acknowledge,
    source: 'fallback',
    producedBy: fallbackProducer,
    summary:
      `No planner could plan this intent (${why}). Review it: approve to only acknowledge it, or reject and submit it again.`.slice(
        0,
        2_000,
      ),
  };
}

/** `provider` with this request's observer attached to every call. */
function observed(provider: GuardedProvider, observe: LlmEventListener | undefined) {
  return {
    name: provider.name,
    model: provider.model,
    complete: (...[request, signal]: Parameters<GuardedProvider['complete']>) =>
      provider.complete(request, signal, observe),
  };
}
