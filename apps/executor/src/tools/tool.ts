import type { BudgetGuard, ToolEstimate } from '@agentry/engine';
import type { RiskLevel } from '@agentry/schema';
import type { z } from 'zod';

/** The logging surface a tool gets: a structural subset of a pino child logger. */
export interface ToolLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What one tool call is scoped to. */
export interface ToolContext {
  /** Aborts on the step timeout (reason `TimeoutError`) or worker shutdown. Tools must honour it. */
  signal: AbortSignal;
  /** Child logger already bound to the run, step and tool. Fields must be secret-free. */
  log: ToolLogger;
  runId: string;
  stepId: string;
  /** 1 on the first attempt. */
  attempt: number;
  /**
   * `${runId}.${stepId}` — the same on every attempt of a step (`.compensate` appended for its
   * compensation). Tools pass it to every side-effecting call so at-least-once stays exactly-once
   * where the remote side honours it.
   */
  idempotencyKey: string;
  /**
   * The run's budget, when it has one: a tool that makes paid calls of its own (a model) checks
   * each call's most possible cost first, and makes no call the run cannot afford.
   */
  budget?: BudgetGuard;
}

/**
 * A tool the executor can call. `run` receives input already parsed by `input` and must return
 * something `output` accepts; it should throw AppErrors (anything else is reported as a retryable
 * `TOOL_FAILED`) and stop promptly when `ctx.signal` aborts.
 */
export interface ToolDefinition<I = unknown, O = unknown> {
  /** Dotted lower-case name, like `http.request` (see `ToolName` in @agentry/schema). */
  name: string;
  /** One or two sentences for the planner: what it does and when to use it. */
  description: string;
  input: z.ZodType<I>;
  output: z.ZodType<O>;
  risk: RiskLevel;
  /** Typical duration, for plan reviews (until history says otherwise). */
  estimatedMs?: number;
  /**
   * What a call with this input is expected to take (a duration the input decides) and, for a
   * tool that calls a model, its tokens: for plan reviews and budget checks. Pure and quick.
   */
  estimate?(input: I): ToolEstimate;
  run(input: I, ctx: ToolContext): Promise<O>;
  /** Undo the effect of a completed call when its run fails. Must be idempotent. */
  compensate?(input: I, output: O, ctx: ToolContext): Promise<void>;
}

/** Identity helper that infers `I` and `O` from the schemas, so `run` is typed without annotations. */
export function defineTool<I, O>(definition: ToolDefinition<I, O>): ToolDefinition<I, O> {
  return definition;
}
