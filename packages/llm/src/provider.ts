/** One turn of a conversation sent to a model. */
export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** What a provider is asked. */
export interface CompletionRequest {
  system: string;
  messages: readonly ChatMessage[];
  /** Ask for structured output matching this JSON Schema (an object schema). */
  jsonSchema?: { name: string; schema: Record<string, unknown> };
  /**
   * Judges the answer inside the provider's policies (`guardProvider`): throw when it cannot be
   * used (structured output that fails its schema, prose instead of JSON). The guard counts such
   * a call as a failure of the provider — its circuit opens on a model answering nonsense as on
   * one answering 500s — and never retries it: repairing an answer is the caller's. Never sent.
   */
  acceptAnswer?: (completion: Completion) => void;
}

/** Tokens a call consumed, as the provider reported them. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** A provider's answer. With `jsonSchema`, `content` is the JSON text of the structured answer. */
export interface Completion {
  content: string;
  usage: TokenUsage;
  /** The model that answered, as the provider named it. */
  model: string;
  latencyMs: number;
}

/** Where an API key comes from; called per request so rotated secrets are picked up. */
export type ApiKeySource = () => string | Promise<string>;

/**
 * A chat model behind an HTTP API.
 *
 * Contract of `complete`: resolves with the answer or rejects with an `AppError` — `TIMEOUT`,
 * `CANCELLED` (the caller's signal), `TRANSIENT` / `UNAVAILABLE` (network, 5xx, non-JSON body),
 * `RATE_LIMITED` (with `details.retryAfterMs` when the provider said), `POLICY_DENIED`
 * (credential rejected, not retryable) or `VALIDATION` (other 4xx, not retryable). It never
 * retries by itself, and never puts the API key in an error.
 */
export interface LlmProvider {
  readonly name: string;
  readonly model: string;
  complete(request: CompletionRequest, signal?: AbortSignal): Promise<Completion>;
}

/** Options every provider takes. */
export interface ProviderOptions {
  apiKey: ApiKeySource;
  model: string;
  /** Deadline of one call, body included. */
  timeoutMs: number;
  /** Name in errors and call records. @default the provider's kind ('openai', 'anthropic') */
  name?: string;
  fetch?: typeof fetch;
  /** Wall clock, ms. @default Date.now */
  now?: () => number;
  /** Monotonic clock for latency, ms. @default performance.now */
  monotonic?: () => number;
}
