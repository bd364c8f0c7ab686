import { fakeUnknownTool, type FakeAnswer } from './fake-answer';
import type { FakeRequestView } from './fake-request';

/** The structured-output name the planner asks for (see `structuredPlan`). */
export const planSchemaName = 'agentry_plan';

/** A test's own plans for planning requests; `undefined` → the default echo plan. */
export type FakePlanSource = (request: FakeRequestView) => object | undefined;

/** Generated model text: what the answer says and why it stopped. */
export interface FakeText {
  content: string;
  /** `'length'`: cut off at the token limit. */
  finish: 'stop' | 'length';
}

type GeneratedKind = Extract<
  FakeAnswer['kind'],
  'plan' | 'invalid-plan' | 'unknown-tool' | 'truncated'
>;

/**
 * The text a model would answer `request` with, for the generated answer kinds. A plan names
 * `echo` when the system prompt lists it, else the first listed tool (with `{}` input).
 */
export function fakeText(
  kind: GeneratedKind,
  request: FakeRequestView,
  planFor?: FakePlanSource,
): FakeText {
  const intent = request.lastUserText;
  const summary = `Fake plan: ${intent.slice(0, 200)}`;
  switch (kind) {
    case 'plan':
      return { content: helpfulAnswer(request, planFor), finish: 'stop' };
    case 'invalid-plan':
      // A step without `tool`: the schema requires one.
      return {
        content: JSON.stringify({ summary, steps: [{ id: 'answer', input: {} }] }),
        finish: 'stop',
      };
    case 'unknown-tool':
      return {
        content: JSON.stringify({ summary, steps: [{ id: 'answer', tool: fakeUnknownTool }] }),
        finish: 'stop',
      };
    case 'truncated': {
      const whole = helpfulAnswer(request, planFor);
      return {
        content: whole.slice(0, Math.max(1, Math.floor(whole.length / 2))),
        finish: 'length',
      };
    }
  }
}

function helpfulAnswer(request: FakeRequestView, planFor: FakePlanSource | undefined): string {
  const intent = request.lastUserText;
  if (request.schemaName === planSchemaName) {
    return JSON.stringify(planFor?.(request) ?? validPlan(request));
  }
  // Some other structured output: the fake knows nothing of its schema.
  if (request.schemaName !== undefined) return JSON.stringify({ ok: true });
  return `fake answer to: ${intent.slice(0, 200)}`;
}

function validPlan(request: FakeRequestView) {
  const intent = request.lastUserText;
  const tool =
    request.tools.includes('echo') || request.tools.length === 0 ? 'echo' : request.tools[0];
  return {
    summary: `Fake plan: ${intent.slice(0, 200)}`,
    steps: [
      {
        id: 'answer',
        tool,
        input: tool === 'echo' ? { message: intent.slice(0, 1_000) } : {},
      },
    ],
  };
}

/** A deterministic token estimate (about 4 characters a token), the one budgets use too. */
export { estimateTokens } from '../price-table';
