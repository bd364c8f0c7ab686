/** How one model call ended: a usable answer, an answer that failed validation, or a fault. */
export type LlmCallOutcome = 'ok' | 'invalid' | 'error';

/** One model call, as recorded with its run. */
export interface LlmCall {
  provider: string;
  model: string;
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
