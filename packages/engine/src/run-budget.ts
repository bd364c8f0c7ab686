import type { CostRepository } from '@agentry/db';
import { AppError } from '@agentry/schema';
import { usd } from './review';

/** Checks a run's budget before a paid call; see {@link runBudgetGuard}. */
export interface BudgetGuard {
  /**
   * Resolve when the run can afford `neededUsd` more (its spend read now, so parallel steps'
   * costs count); reject with {@link budgetExceeded} when that would take it over its budget.
   * `what` names the call in the error.
   */
  check(neededUsd: number, what: string): Promise<void>;
}

/** The facts of a budget stop, kept in the error's details and on the run. */
export interface BudgetStop {
  limitUsd: number;
  spentUsd: number;
  neededUsd: number;
  what: string;
}

/** The run cannot afford a call: not retried (the budget will not grow by waiting). */
export function budgetExceeded(stop: BudgetStop): AppError {
  return new AppError(
    'BUDGET_EXCEEDED',
    `run budget ${usd(stop.limitUsd)} would be exceeded: spent ${usd(stop.spentUsd)}, ${stop.what} needs up to ${usd(stop.neededUsd)}; it was not made`,
    { details: { ...stop } },
  );
}

/** True when spending `neededUsd` more keeps `spentUsd` within `limitUsd`. */
export const affordable = (limitUsd: number, spentUsd: number, neededUsd: number): boolean =>
  spentUsd + neededUsd <= limitUsd + 1e-12;

/** A guard over the run's live spend (one read per check); for runs with a budget. */
export function runBudgetGuard(
  costs: Pick<CostRepository, 'runSpend'>,
  runId: string,
  limitUsd: number,
): BudgetGuard {
  return {
    async check(neededUsd, what) {
      const spentUsd = (await costs.runSpend(runId))?.spentUsd ?? 0;
      if (!affordable(limitUsd, spentUsd, neededUsd)) {
        throw budgetExceeded({ limitUsd, spentUsd, neededUsd, what });
      }
    },
  };
}
