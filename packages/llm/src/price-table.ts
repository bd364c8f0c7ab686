import { AppError } from '@agentry/schema';
import { z } from 'zod';
import type { TokenUsage } from './provider';

/** Price of one model, USD per million tokens. */
export const ModelPrice = z.strictObject({
  inputPerMTok: z.number().nonnegative(),
  outputPerMTok: z.number().nonnegative(),
});
export type ModelPrice = z.infer<typeof ModelPrice>;

/** Price of one call of a tool (a paid API behind it, compute it bills), USD. */
export const ToolPrice = z.strictObject({ perCallUsd: z.number().nonnegative() });
export type ToolPrice = z.infer<typeof ToolPrice>;

/**
 * A price table as configured (JSON): `{ models: { [model]: { inputPerMTok, outputPerMTok } },
 * tools?: { [tool]: { perCallUsd } } }`. A tool not listed costs nothing.
 */
export const PriceTable = z.strictObject({
  models: z.record(z.string().min(1), ModelPrice),
  tools: z.record(z.string().min(1), ToolPrice).optional(),
});
export type PriceTable = z.infer<typeof PriceTable>;

/** Parse a price table; throws `AppError('VALIDATION')` listing the issues. */
export function priceTable(input: unknown): PriceTable {
  const parsed = PriceTable.safeParse(input);
  if (!parsed.success) {
    throw new AppError('VALIDATION', 'invalid price table', {
      details: { issues: parsed.error.issues },
    });
  }
  return parsed.data;
}

/** The cost of a call; `priced: false` (and cost 0) for a model missing from the table. */
export interface Cost {
  costUsd: number;
  priced: boolean;
}

/** Price `usage` of `model` from `table`. Never throws. */
export function costOf(model: string, usage: TokenUsage, table: PriceTable): Cost {
  const price = Object.hasOwn(table.models, model) ? table.models[model] : undefined;
  if (price === undefined) return { costUsd: 0, priced: false };
  const costUsd =
    (usage.inputTokens * price.inputPerMTok + usage.outputTokens * price.outputPerMTok) / 1_000_000;
  return { costUsd, priced: true };
}

/** What one call of `tool` costs; 0 for a tool the table does not list. */
export function toolCallCost(tool: string, table: PriceTable): number {
  const tools = table.tools ?? {};
  return Object.hasOwn(tools, tool) ? (tools[tool]?.perCallUsd ?? 0) : 0;
}

/** Tokens of a text, estimated at about 4 characters a token (never 0). */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/**
 * The most a model call can cost: its request's tokens (estimated from its characters) plus
 * `maxOutputTokens` of answer, priced as `model`. What a budget is checked against before the
 * call is made. `priced: false` (cost 0) for a model the table does not know.
 */
export function callCostCeiling(
  request: { system: string; messages: ReadonlyArray<{ content: string }>; jsonSchema?: unknown },
  model: string,
  maxOutputTokens: number,
  table: PriceTable,
): Cost {
  const chars =
    request.system.length +
    request.messages.reduce((n, m) => n + m.content.length, 0) +
    (request.jsonSchema === undefined ? 0 : JSON.stringify(request.jsonSchema).length);
  return costOf(
    model,
    { inputTokens: Math.max(1, Math.ceil(chars / 4)), outputTokens: maxOutputTokens },
    table,
  );
}
