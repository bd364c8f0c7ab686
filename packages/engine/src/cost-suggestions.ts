import type { LlmPlannedIntentRow, LowRiskGenerateRow, RetryCostRow } from '@agentry/db';
import type { PriceTable } from '@agentry/llm';
import { roundUsd } from './cost-projection';

export type CostSuggestionKind = 'template-match' | 'cheaper-model' | 'retry-waste';

/** One way to spend less, with the numbers it rests on. */
export interface CostSuggestion {
  kind: CostSuggestionKind;
  message: string;
  /** The window's saving scaled to a month; absent when no time of the window has passed. */
  estimatedMonthlySavingUsd?: number;
  evidence: Record<string, unknown>;
}

/** What the suggestions are derived from. */
export interface SuggestionInput {
  llmPlannedIntents: readonly LlmPlannedIntentRow[];
  lowRiskGenerate: readonly LowRiskGenerateRow[];
  retryCosts: readonly RetryCostRow[];
  prices: PriceTable;
  /** Retries costing more than this are reported. */
  retryWasteThresholdUsd: number;
  /** Multiply a window's amount by this for a month's; undefined when none of it has passed. */
  monthFactor: number | undefined;
}

/** `$0.0123`, or `$12.35` from a dollar up. */
export const formatUsd = (usd: number): string => `$${usd.toFixed(Math.abs(usd) >= 1 ? 2 : 4)}`;

/** `1 call`, `2 calls`. */
export const counted = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** Every suggestion the data supports, largest estimated saving first. Pure. */
export function costSuggestions(input: SuggestionInput): CostSuggestion[] {
  return [...templateMatches(input), ...cheaperModels(input), ...retryWaste(input)].sort(
    (a, b) => (b.estimatedMonthlySavingUsd ?? 0) - (a.estimatedMonthlySavingUsd ?? 0),
  );
}

function saving(usd: number, factor: number | undefined) {
  if (factor === undefined) return { text: '', value: {} };
  const monthly = roundUsd(usd * factor);
  return {
    text: ` (≈ ${formatUsd(monthly)}/month)`,
    value: { estimatedMonthlySavingUsd: monthly },
  };
}

/** Model-planned intents a template matches: their planning cost is what a template saves. */
function templateMatches(input: SuggestionInput): CostSuggestion[] {
  const groups = new Map<string, LlmPlannedIntentRow[]>();
  for (const row of input.llmPlannedIntents) {
    const id = row.templateMatch;
    if (id === null) continue;
    const group = groups.get(id);
    if (group) group.push(row);
    else groups.set(id, [row]);
  }
  return [...groups].map(([templateId, rows]) => {
    const planningUsd = roundUsd(rows.reduce((sum, r) => sum + r.planningUsd, 0));
    const examples = [...new Set(rows.map((r) => r.text.slice(0, 80)))].slice(0, 3);
    const s = saving(planningUsd, input.monthFactor);
    return {
      kind: 'template-match',
      message:
        `${counted(rows.length, 'run')} ${rows.length === 1 ? 'was' : 'were'} planned by a model although the template "${templateId}" matches their intent ` +
        `(e.g. "${examples[0] ?? ''}"): model planning cost ${formatUsd(planningUsd)} in this window${s.text}. ` +
        `Plan these intents with the template first.`,
      ...s.value,
      evidence: {
        templateId,
        runs: rows.length,
        planningUsd,
        examples,
        runIds: rows.slice(0, 5).map((r) => r.runId),
      },
    };
  });
}

/** The cheapest model in the price table for these tokens, other than `model`. */
function cheapest(row: LowRiskGenerateRow, prices: PriceTable) {
  let best: { model: string; costUsd: number } | undefined;
  for (const [model, price] of Object.entries(prices.models)) {
    if (model === row.model) continue;
    const costUsd =
      (row.inputTokens * price.inputPerMTok + row.outputTokens * price.outputPerMTok) / 1e6;
    if (best === undefined || costUsd < best.costUsd) best = { model, costUsd };
  }
  return best;
}

/** Low-risk `llm.generate` steps on a model the price table has a cheaper alternative to. */
function cheaperModels(input: SuggestionInput): CostSuggestion[] {
  return input.lowRiskGenerate.flatMap((row): CostSuggestion[] => {
    const alternative = cheapest(row, input.prices);
    if (!alternative) return [];
    const savedUsd = roundUsd(row.costUsd - alternative.costUsd);
    if (savedUsd <= 0) return [];
    const s = saving(savedUsd, input.monthFactor);
    return [
      {
        kind: 'cheaper-model',
        message:
          `${counted(row.calls, 'llm.generate call')} of ${counted(row.steps, 'low-risk step')} used ${row.model} (${row.provider}) ` +
          `for ${formatUsd(row.costUsd)}; the same tokens on ${alternative.model} would cost ` +
          `${formatUsd(alternative.costUsd)}, saving ${formatUsd(savedUsd)} in this window${s.text}.`,
        ...s.value,
        evidence: {
          provider: row.provider,
          model: row.model,
          cheaperModel: alternative.model,
          calls: row.calls,
          steps: row.steps,
          inputTokens: row.inputTokens,
          outputTokens: row.outputTokens,
          costUsd: row.costUsd,
          cheaperCostUsd: roundUsd(alternative.costUsd),
        },
      },
    ];
  });
}

/** Paid work that was redone, where it cost more than the threshold. */
function retryWaste(input: SuggestionInput): CostSuggestion[] {
  return input.retryCosts
    .filter((row) => row.costUsd > input.retryWasteThresholdUsd)
    .map((row) => {
      const s = saving(row.costUsd, input.monthFactor);
      const message =
        row.source === 'llm'
          ? `${counted(row.retries, 'plan')} from ${row.name} (${row.provider ?? '-'}) failed validation and ${row.retries === 1 ? 'was' : 'were'} repaired: ` +
            `the invalid answers cost ${formatUsd(row.costUsd)} in this window${s.text}. ` +
            `Tighten the planning prompt or plan with a model that follows the schema.`
          : `${counted(row.retries, 'failed or cancelled attempt')} of ${row.name} cost ` +
            `${formatUsd(row.costUsd)} in this window${s.text}. Find out why ${row.name} fails, or lower its steps' maxAttempts.`;
      return {
        kind: 'retry-waste' as const,
        message,
        ...s.value,
        evidence: { ...row, thresholdUsd: input.retryWasteThresholdUsd },
      };
    });
}
