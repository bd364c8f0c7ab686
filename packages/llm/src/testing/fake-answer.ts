import { z } from 'zod';

/** Tokens a fake answer reports; plan kinds estimate them when not given. */
export interface FakeUsage {
  input: number;
  output: number;
}

/** One answer of the {@link FakeLlmServer}, scripted per call or set as its mode. */
export type FakeAnswer =
  /** A well-formed answer whose text is `content` (an object is sent as its JSON). */
  | { kind: 'ok'; content: string | object; delayMs?: number; usage?: FakeUsage }
  /**
   * What a helpful model would say: a valid plan for the intent when the request asks for
   * `agentry_plan` structured output, `{"ok":true}` for any other schema, text otherwise.
   */
  | { kind: 'plan'; delayMs?: number; usage?: FakeUsage }
  /** A JSON object that violates the plan schema (a step without `tool`). */
  | { kind: 'invalid-plan'; delayMs?: number; usage?: FakeUsage }
  /** A schema-valid plan whose step names the tool `no.such-tool`. */
  | { kind: 'unknown-tool'; delayMs?: number; usage?: FakeUsage }
  /** 200 with the `plan` answer cut off halfway, `finish_reason: 'length'` / `stop_reason: 'max_tokens'`. */
  | { kind: 'truncated'; delayMs?: number; usage?: FakeUsage }
  /** An error status; `retryAfter` becomes the `Retry-After` header verbatim. */
  | { kind: 'status'; status: number; retryAfter?: string; body?: unknown; delayMs?: number }
  /** Accept the request and never answer (until the client gives up or the server closes). */
  | { kind: 'hang' }
  /** 200 with a body that is not JSON. */
  | { kind: 'garbage' }
  /** Destroy the socket without answering. */
  | { kind: 'reset' };

/** The unknown tool an `unknown-tool` answer names. */
export const fakeUnknownTool = 'no.such-tool';

const delayMs = z.number().int().min(0).max(600_000).optional();
const usage = z
  .strictObject({ input: z.number().int().min(0), output: z.number().int().min(0) })
  .optional();
const generated = { delayMs, usage };

/** A {@link FakeAnswer} as the control API accepts it (JSON, so `content` is any JSON value). */
export const fakeAnswerSchema: z.ZodType<FakeAnswer> = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('ok'),
    content: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]),
    ...generated,
  }),
  z.strictObject({ kind: z.literal('plan'), ...generated }),
  z.strictObject({ kind: z.literal('invalid-plan'), ...generated }),
  z.strictObject({ kind: z.literal('unknown-tool'), ...generated }),
  z.strictObject({ kind: z.literal('truncated'), ...generated }),
  z.strictObject({
    kind: z.literal('status'),
    status: z.number().int().min(200).max(599),
    retryAfter: z.string().optional(),
    body: z.unknown().optional(),
    delayMs,
  }),
  z.strictObject({ kind: z.literal('hang') }),
  z.strictObject({ kind: z.literal('garbage') }),
  z.strictObject({ kind: z.literal('reset') }),
]);
