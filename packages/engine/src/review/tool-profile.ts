import type { RiskLevel } from '@agentry/schema';

/** What a tool expects one call with a given input to take. */
export interface ToolEstimate {
  /** Duration the input itself decides (a `wait` of 5 s): beats history and the tool's typical. */
  ms?: number;
  /** Tokens of the model call the tool makes, if it makes one. */
  model?: { inputTokens: number; outputTokens: number };
}

/** A tool as the review sees it (built by the executor from its tool definitions). */
export interface ToolProfile {
  risk: RiskLevel;
  /** Typical duration of a call. */
  estimatedMs?: number;
  /** Estimates for this input; never throws (input the tool refuses gives `{}`). */
  estimate(input: unknown): ToolEstimate;
}

/** Successful attempts of a tool recently: their median duration and how many there were. */
export interface ObservedDuration {
  p50Ms: number;
  samples: number;
}

/** A step's duration when neither its input, its history nor its tool says. */
export const defaultStepMs = 1_000;
/** History is trusted from this many successful attempts on. */
export const minObservedSamples = 5;
