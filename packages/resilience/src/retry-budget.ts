/** Options of {@link retryBudget}. */
export interface RetryBudgetOptions {
  /** Size of the bucket; it starts full. Must be > 0. */
  maxTokens: number;
  /** Tokens a success puts back (gRPC's `tokenRatio`, e.g. 0.1). Must be > 0. */
  tokenRatio: number;
}

/**
 * A retry throttle shared by every call to one dependency, as gRPC's retry throttling: the
 * bucket starts at `maxTokens`, each failed attempt takes 1 token, each success puts back
 * `tokenRatio` (capped at `maxTokens`), and a retry is allowed only while tokens exceed
 * `maxTokens / 2`. When the recent failure ratio is high, retries stop, so they cannot multiply
 * an outage. First attempts are never throttled.
 */
export interface RetryBudget {
  /** Current tokens, in `[0, maxTokens]`. */
  readonly tokens: number;
  /** True while a retry may be attempted (tokens > maxTokens / 2). */
  canRetry(): boolean;
  /** Record a failed attempt (−1 token, floor 0). */
  recordFailure(): void;
  /** Record a successful attempt (+tokenRatio, capped at maxTokens). */
  recordSuccess(): void;
}

/** Create a {@link RetryBudget}; pass the same one to every `retry` policy that should share it. */
export function retryBudget(options: RetryBudgetOptions): RetryBudget {
  const { maxTokens, tokenRatio } = options;
  if (!(Number.isFinite(maxTokens) && maxTokens > 0))
    throw new RangeError(`maxTokens must be a finite number > 0, got ${maxTokens}`);
  if (!(Number.isFinite(tokenRatio) && tokenRatio > 0))
    throw new RangeError(`tokenRatio must be a finite number > 0, got ${tokenRatio}`);
  let tokens = maxTokens;
  return {
    get tokens() {
      return tokens;
    },
    canRetry: () => tokens > maxTokens / 2,
    recordFailure: () => {
      tokens = Math.max(0, tokens - 1);
    },
    recordSuccess: () => {
      tokens = Math.min(maxTokens, tokens + tokenRatio);
    },
  };
}
