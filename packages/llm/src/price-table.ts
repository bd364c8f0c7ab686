import { AppError } from '@agentry/schema';
import { z } from 'zod';
import type { TokenUsage } from './provider';

/** Price of one model, USD per million tokens. */
export const ModelPrice = z.strictObject({
  inputPerMTok: z.number().nonnegative(),
  outputPerMTok: z.number().nonnegative(),
});
export type ModelPrice = z.infer<typeof ModelPrice>;

/** A price table as configured (JSON): `{ models: { [model]: { inputPerMTok, outputPerMTok } } }`. */
export const PriceTable = z.strictObject({
  models: z.record(z.string().min(1), ModelPrice),
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
