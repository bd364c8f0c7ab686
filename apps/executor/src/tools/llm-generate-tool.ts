import {
  callCostCeiling,
  completeWithFailover,
  estimateTokens,
  type GuardedProvider,
  type LlmCall,
  type PriceTable,
} from '@agentry/llm';
import { AppError, amendAppError, toAppError } from '@agentry/schema';
import { z } from 'zod';
import { defineTool, type ToolDefinition } from './tool';

export const LlmGenerateInput = z.strictObject({
  prompt: z.string().min(1).max(32_000).describe('What to ask the model.'),
  system: z.string().max(8_000).optional().describe('Instructions that frame the answer.'),
});
export type LlmGenerateInput = z.output<typeof LlmGenerateInput>;

export const LlmGenerateOutput = z.object({
  text: z.string(),
  provider: z.string(),
  model: z.string(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
});
export type LlmGenerateOutput = z.output<typeof LlmGenerateOutput>;

export interface LlmGenerateToolOptions {
  /** The configured providers, in the order tried; empty when no model is configured. */
  providers: readonly GuardedProvider[];
  prices: PriceTable;
  /** Store the step's model calls with its run; awaited, failed calls included. */
  record(calls: readonly LlmCall[], step: { runId: string; stepId: string }): Promise<void>;
  /** Metrics of each call. */
  observeCall?(call: LlmCall): void;
  /** The providers' answer cap: a budget check prices a call at this many output tokens. */
  maxOutputTokens?: number;
  /** The answer length a review expects. @default 256 */
  expectedOutputTokens?: number;
}

const defaultMaxOutputTokens = 4_096;

/**
 * `llm.generate`: one completion from the configured providers, primary first, each behind its
 * own retry, circuit breaker and timeout (the same chain the planner uses). Those policies own
 * the retries: a failure leaves the tool not retryable, so the step does not multiply them —
 * except a "come back later" (see `oneRetryLayer`). Every call, failed ones too, is recorded
 * with the run, best effort: a failed write is logged, it does not fail a paid-for answer.
 */
export function createLlmGenerateTool(
  options: LlmGenerateToolOptions,
): ToolDefinition<LlmGenerateInput, LlmGenerateOutput> {
  const { providers, prices } = options;
  return defineTool({
    name: 'llm.generate',
    description:
      'Ask the configured language model for a text answer to prompt (optionally framed by system). Costs tokens.',
    input: LlmGenerateInput,
    output: LlmGenerateOutput,
    risk: 'medium',
    estimatedMs: 5_000,
    estimate: (input) => ({
      model: {
        inputTokens: estimateTokens((input.system ?? '') + input.prompt),
        outputTokens: options.expectedOutputTokens ?? 256,
      },
    }),
    async run(input, ctx) {
      if (providers.length === 0) {
        throw new AppError(
          'TOOL_FAILED',
          'llm.generate: no model is configured (set AGENTRY_LLM_PROVIDER on the executor)',
          { retryable: false },
        );
      }
      const calls: LlmCall[] = [];
      const step = { runId: ctx.runId, stepId: ctx.stepId };
      const request = {
        system: input.system ?? '',
        messages: [{ role: 'user' as const, content: input.prompt }],
      };
      const { budget } = ctx;
      try {
        const { completion, provider } = await completeWithFailover(providers, request, {
          prices,
          signal: ctx.signal,
          ...(budget && {
            beforeCall: (p) =>
              budget.check(
                callCostCeiling(
                  request,
                  p.model,
                  options.maxOutputTokens ?? defaultMaxOutputTokens,
                  prices,
                ).costUsd,
                `a call to ${p.name}:${p.model}`,
              ),
          }),
          observe: (event) => {
            if (event.type === 'breaker' && event.to === 'OPEN')
              ctx.log.error(event, 'circuit opened');
            else ctx.log.warn(event, `model call: ${event.type}`);
          },
          onCall: (call) => {
            calls.push(call);
            options.observeCall?.(call);
          },
        });
        const answered = calls.at(-1);
        return {
          text: completion.content,
          provider: provider.name,
          model: completion.model,
          inputTokens: completion.usage.inputTokens,
          outputTokens: completion.usage.outputTokens,
          costUsd: answered?.costUsd ?? 0,
        };
      } catch (caught) {
        throw oneRetryLayer(toAppError(caught, 'TRANSIENT'));
      } finally {
        await options.record(calls, step).catch((e: unknown) => {
          ctx.log.error(
            { err: toAppError(e).toJSON(), calls: calls.length },
            'llm.generate: could not record the model calls',
          );
        });
      }
    },
  });
}

/**
 * The policies already retried, so the step does not — unless the last provider's answer was "come
 * back later" beyond what the policy waits for: its circuit is open (`details.circuit`) or its
 * `Retry-After` is longer than the policy's backoff cap (`details.deferred`). The step's backoff
 * then waits `retryAfterMs`.
 */
function oneRetryLayer(error: AppError): AppError {
  if (!error.retryable || error.code === 'CANCELLED') return error;
  const details = error.details ?? {};
  if (details['circuit'] === 'open' || details['deferred'] === true) return error;
  return amendAppError(error, { retryable: false, details: { retriedBy: 'llm policies' } });
}
