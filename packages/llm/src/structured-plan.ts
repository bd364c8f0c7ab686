import {
  AppError,
  Plan,
  isAppError,
  toAppError,
  validatePlan,
  type PlanInput,
} from '@agentry/schema';
import { z } from 'zod';
import { answeredCall, failedCall, type LlmCall } from './llm-call';
import type { PriceTable } from './price-table';
import type { ChatMessage, Completion, CompletionRequest, LlmProvider } from './provider';

/** A tool the model may use in a plan. */
export interface ToolDescription {
  name: string;
  description: string;
  /** JSON Schema of the tool's input, shown to the model. */
  inputSchema?: unknown;
}

/** Options of {@link structuredPlan}. */
export interface StructuredPlanOptions {
  provider: LlmProvider;
  toolCatalog: readonly ToolDescription[];
  /** Rounds that send the validation errors back. @default 1 */
  maxRepairs?: number;
  /** Prices of the calls. @default no prices (every call `priced: false`) */
  prices?: PriceTable;
  /** @default performance.now */
  monotonic?: () => number;
}

export interface PlanRequestOptions {
  signal?: AbortSignal;
  /** Earlier turns, sent before the intent. */
  history?: readonly ChatMessage[];
  /** Called as each call ends, also when `plan` then rejects (so no call goes unrecorded). */
  onCall?: (call: LlmCall) => void;
  /**
   * Called before each call with its request (a budget check): a rejection ends planning with
   * that error and the call is not made.
   */
  beforeCall?: (request: CompletionRequest) => Promise<void>;
}

export interface StructuredPlanResult {
  /** Validated against the plan schema and the tool catalog; `source` is `'llm'`. */
  plan: PlanInput;
  calls: LlmCall[];
}

export interface StructuredPlanner {
  /**
   * Ask the model for a plan of `intentText`. Rejects with `AppError('PLAN_INVALID')` (issues
   * in `details.issues`, the calls in `details.calls`) when the answer still fails after the
   * repair rounds, or with the provider's `AppError` (its `details` left as they are).
   */
  plan(intentText: string, options?: PlanRequestOptions): Promise<StructuredPlanResult>;
}

const schemaName = 'agentry_plan';

let cachedSchema: Record<string, unknown> | undefined;

/** The JSON Schema the model answers to, built once. */
function planJsonSchema(): Record<string, unknown> {
  // `source` and `producedBy` are ours to fill in, so the model is not asked for them.
  cachedSchema ??= z.toJSONSchema(Plan.omit({ source: true, producedBy: true }), {
    io: 'input',
  }) as Record<string, unknown>;
  return cachedSchema;
}

/**
 * A planner that asks one provider for a plan as structured output, validates it, and sends
 * the validation errors back for at most `maxRepairs` more rounds. An invalid plan never
 * leaves it. It does not retry faults: that belongs to the resilience layer around it.
 */
export function structuredPlan(options: StructuredPlanOptions): StructuredPlanner {
  const { provider, toolCatalog, maxRepairs = 1, prices = { models: {} } } = options;
  const monotonic = options.monotonic ?? (() => performance.now());
  const jsonSchema = planJsonSchema();
  const knownTools = new Set(toolCatalog.map((tool) => tool.name));
  const system = systemPrompt(toolCatalog);
  const producedBy = `${provider.name}:${provider.model}`.slice(0, 128);

  function record(calls: LlmCall[], call: LlmCall, onCall: PlanRequestOptions['onCall']): void {
    calls.push(call);
    onCall?.(call);
  }

  return {
    async plan(intentText, { signal, history = [], onCall, beforeCall } = {}) {
      const calls: LlmCall[] = [];
      const messages: ChatMessage[] = [...history, { role: 'user', content: intentText }];
      let issues: unknown[] = [];
      for (let round = 0; round <= maxRepairs; round += 1) {
        // The answer is judged inside the provider's policies, so a guarded provider counts an
        // invalid plan against its circuit; a bare provider does not call `acceptAnswer`.
        let judged: { answer: Completion; checked: Checked; refusal?: Error } | undefined;
        const request: CompletionRequest = {
          system,
          messages,
          jsonSchema: { name: schemaName, schema: jsonSchema },
          acceptAnswer: (answer) => {
            const checked = check(answer.content, knownTools, producedBy);
            if (checked.ok) {
              judged = { answer, checked };
              return;
            }
            const refusal = new AppError('PLAN_INVALID', `${provider.name}: unusable plan`, {
              retryable: false,
              details: { issues: checked.issues },
            });
            judged = { answer, checked, refusal };
            throw refusal;
          },
        };
        await beforeCall?.(request);
        const started = monotonic();
        let answer: Completion;
        try {
          answer = await provider.complete(request, signal);
        } catch (caught) {
          if (judged?.refusal === undefined || caught !== judged.refusal) {
            const error = toAppError(caught, 'TRANSIENT');
            record(calls, failedCall(provider, error, monotonic() - started), onCall);
            throw error;
          }
          answer = judged.answer;
        }
        const checked =
          judged?.answer === answer
            ? judged.checked
            : check(answer.content, knownTools, producedBy);
        if (checked.ok) {
          record(calls, answeredCall(provider, answer, 'ok', prices), onCall);
          return { plan: checked.plan, calls };
        }
        record(calls, answeredCall(provider, answer, 'invalid', prices), onCall);
        issues = checked.issues;
        messages.push(
          { role: 'assistant', content: answer.content },
          { role: 'user', content: repairPrompt(issues) },
        );
      }
      throw new AppError('PLAN_INVALID', `${provider.name}: the model's plan failed validation`, {
        details: { issues, calls, repairs: maxRepairs },
      });
    },
  };
}

type Checked = { ok: true; plan: PlanInput } | { ok: false; issues: unknown[] };

function check(content: string, knownTools: ReadonlySet<string>, producedBy: string): Checked {
  let candidate: unknown;
  try {
    candidate = JSON.parse(content);
  } catch (caught) {
    return { ok: false, issues: [{ message: `not JSON: ${toAppError(caught).message}` }] };
  }
  // Who made the plan is ours to say, not the model's.
  if (typeof candidate === 'object' && candidate !== null && !Array.isArray(candidate)) {
    candidate = { ...candidate, source: 'llm', producedBy };
  }
  try {
    return { ok: true, plan: validatePlan(candidate, knownTools).plan };
  } catch (caught) {
    if (!isAppError(caught)) throw caught;
    const details = caught.details ?? {};
    const issues = details.issues ?? details.problems;
    return { ok: false, issues: Array.isArray(issues) ? issues : [{ message: caught.message }] };
  }
}

function systemPrompt(tools: readonly ToolDescription[]): string {
  const catalog = tools
    .map((tool) => {
      const input =
        tool.inputSchema === undefined ? '' : ` input: ${JSON.stringify(tool.inputSchema)}`;
      return `- ${tool.name}: ${tool.description}${input}`;
    })
    .join('\n');
  return [
    'You turn an operator intent into an execution plan for agentry.',
    'Answer with one JSON object matching the plan schema, nothing else.',
    'Use only these tools:',
    catalog,
  ].join('\n');
}

function repairPrompt(issues: readonly unknown[]): string {
  return [
    'That plan is invalid. Problems:',
    JSON.stringify(issues, null, 1).slice(0, 4_000),
    'Answer again with the corrected plan as one JSON object, nothing else.',
  ].join('\n');
}
