import type { AppError } from '@agentry/schema';
import { costOf, type PriceTable } from './price-table';
import type { Completion, LlmProvider } from './provider';

/** How one model call ended: a usable answer, an answer that failed validation, or a fault. */
export type LlmCallOutcome = 'ok' | 'invalid' | 'error';

/** One model call, as recorded with its run. */
export interface LlmCall {
  provider: string;
  /** The model as configured: a bounded metric label. */
  model: string;
  /** The model the provider said answered (often a dated variant); absent when it failed. */
  answeredModel?: string;
  inputTokens: number;
  outputTokens: number;
  /** 0 when the model is not in the price table (see `priced`). */
  costUsd: number;
  priced: boolean;
  latencyMs: number;
  outcome: LlmCallOutcome;
  /** The error code when `outcome` is `'error'`. */
  errorCode?: string;
}

/**
 * The record of an answered call, priced by the model that answered (or, when the table does not
 * know that name, by the model asked for: providers often answer with a dated variant).
 */
export function answeredCall(
  provider: LlmProvider,
  answer: Completion,
  outcome: Exclude<LlmCallOutcome, 'error'>,
  prices: PriceTable,
): LlmCall {
  const byAnswer = costOf(answer.model, answer.usage, prices);
  const cost = byAnswer.priced ? byAnswer : costOf(provider.model, answer.usage, prices);
  return {
    provider: provider.name,
    model: provider.model,
    answeredModel: answer.model,
    inputTokens: answer.usage.inputTokens,
    outputTokens: answer.usage.outputTokens,
    costUsd: cost.costUsd,
    priced: cost.priced,
    latencyMs: answer.latencyMs,
    outcome,
  };
}

/** The record of a call that failed: no tokens, no cost. */
export function failedCall(provider: LlmProvider, error: AppError, latencyMs: number): LlmCall {
  return {
    provider: provider.name,
    model: provider.model,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    priced: false,
    latencyMs,
    outcome: 'error',
    errorCode: error.code,
  };
}
