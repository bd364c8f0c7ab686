import type { ToolProfile } from '@agentry/engine';
import { AppError, ToolName, toAppError, toError } from '@agentry/schema';
import { z } from 'zod';
import { abortError, untilAborted } from './abort-error';
import type { ToolContext, ToolDefinition } from './tool';

/** One tool as the planner sees it. */
export interface ToolSummary {
  name: string;
  description: string;
  risk: ToolDefinition['risk'];
  /** JSON Schema (draft 2020-12) of what the tool accepts, defaults included. */
  inputJsonSchema: Record<string, unknown>;
}

export interface ToolRegistry {
  get(name: string): ToolDefinition | undefined;
  names(): ReadonlySet<string>;
  list(): ToolSummary[];
  /** The tool's risk and estimates, for plan reviews and budget checks. */
  profile(name: string): ToolProfile | undefined;
  /**
   * Call a tool by name. Rejects with an AppError only: `UNKNOWN_TOOL`; `VALIDATION` for input
   * the tool's schema refuses (`details.issues`, never retried); the tool's own AppError; a
   * retryable `TOOL_FAILED` for anything else it throws; a non-retryable `TOOL_FAILED` when its
   * output breaks its schema; and `TIMEOUT` / `CANCELLED` as soon as `ctx.signal` aborts (a
   * reason named `TimeoutError` is a timeout), even if the tool ignores the signal. Resolves with
   * the output as parsed by the tool's output schema.
   */
  invoke(name: string, rawInput: unknown, ctx: ToolContext): Promise<unknown>;
}

/** A zod issue reduced to what an operator needs; carries no input values. */
export interface ToolIssue {
  path: string;
  code: string;
  message: string;
}

const maxIssues = 20;

/** Build the registry. Throws a plain Error for a duplicate or malformed tool name. */
export function createToolRegistry(
  tools: readonly ToolDefinition[],
  options: {
    /**
     * Applied to every error a tool throws before anything records it (step rows, dead
     * letters, logs): the secret store's scrubber, so a value a tool saw never travels on.
     */
    scrubError?: <E>(error: E) => E;
  } = {},
): ToolRegistry {
  const scrub = options.scrubError ?? (<E>(error: E): E => error);
  const byName = new Map<string, ToolDefinition>();
  for (const tool of tools) {
    if (!ToolName.safeParse(tool.name).success) throw new Error(`invalid tool name "${tool.name}"`);
    if (byName.has(tool.name)) throw new Error(`duplicate tool name "${tool.name}"`);
    byName.set(tool.name, tool);
  }
  const names: ReadonlySet<string> = new Set(byName.keys());
  let summaries: ToolSummary[] | undefined;

  return {
    get: (name) => byName.get(name),
    names: () => names,
    profile(name) {
      const tool = byName.get(name);
      if (!tool) return undefined;
      return {
        risk: tool.risk,
        ...(tool.estimatedMs === undefined ? {} : { estimatedMs: tool.estimatedMs }),
        estimate(raw) {
          if (!tool.estimate) return {};
          const input = tool.input.safeParse(raw);
          return input.success ? tool.estimate(input.data) : {};
        },
      };
    },
    list() {
      summaries ??= [...byName.values()].map((tool) => ({
        name: tool.name,
        description: tool.description,
        risk: tool.risk,
        inputJsonSchema: z.toJSONSchema(tool.input, {
          io: 'input',
          unrepresentable: 'any',
        }) as Record<string, unknown>,
      }));
      return summaries.map((s) => ({ ...s }));
    },
    async invoke(name, rawInput, ctx) {
      const tool = byName.get(name);
      if (!tool)
        throw new AppError('UNKNOWN_TOOL', `unknown tool "${name}"`, { details: { tool: name } });
      const input = tool.input.safeParse(rawInput);
      if (!input.success) {
        throw new AppError('VALIDATION', `input for tool ${name} is invalid`, {
          details: { tool: name, issues: toIssues(input.error.issues) },
        });
      }
      if (ctx.signal.aborted) throw abortError(ctx.signal);
      let output: unknown;
      try {
        output = await untilAborted(tool.run(input.data, ctx), ctx.signal);
      } catch (e) {
        const error = toError(e);
        if (ctx.signal.aborted) throw abortError(ctx.signal);
        throw scrub(toAppError(error, 'TOOL_FAILED'));
      }
      const checked = tool.output.safeParse(output);
      if (!checked.success) {
        throw new AppError('TOOL_FAILED', `output of tool ${name} is invalid`, {
          retryable: false,
          details: { tool: name, issues: toIssues(checked.error.issues) },
        });
      }
      return checked.data;
    },
  };
}

function toIssues(issues: readonly z.core.$ZodIssue[]): ToolIssue[] {
  return issues.slice(0, maxIssues).map((i) => ({
    path: i.path.map((p) => String(p)).join('.'),
    code: i.code,
    message: i.message,
  }));
}
