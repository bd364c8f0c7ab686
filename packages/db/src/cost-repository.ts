import type { Kysely } from 'kysely';
import type { DB } from './db';
import { isUuid } from './is-uuid';

/** One priced tool call to charge. */
export interface ToolChargeInput {
  runId: string;
  stepId: string;
  /** The attempt the call belongs to: one charge per attempt. */
  attemptId: string;
  tool: string;
  costUsd: number;
}

/** A run's budget and what it has spent, US dollars. */
export interface RunSpend {
  tenantId: string;
  budgetUsd: number | null;
  spentUsd: number;
}

/**
 * The cost ledgers' write side and the run totals. Costs are added to the run's and its tenant's
 * running totals by the `agentry_account_spend` trigger (migration 0004), in the same transaction
 * that records them.
 */
export interface CostRepository {
  /** Charge a priced tool call; a second charge for the same attempt is a no-op. */
  chargeTool(charge: ToolChargeInput): Promise<void>;
  /** The run's budget and spend; undefined for an unknown run. */
  runSpend(runId: string): Promise<RunSpend | undefined>;
}

/** Build the {@link CostRepository}. */
export function createCostRepository(db: Kysely<DB>, clock: () => Date): CostRepository {
  return {
    async chargeTool(charge) {
      if (!isUuid(charge.runId) || !/^\d{1,18}$/.test(charge.attemptId)) return;
      await db
        .insertInto('toolCharges')
        .values({
          runId: charge.runId,
          stepId: charge.stepId,
          attemptId: charge.attemptId,
          tool: charge.tool,
          costUsd: charge.costUsd,
          at: clock(),
        })
        .onConflict((oc) => oc.column('attemptId').doNothing())
        .execute();
    },

    async runSpend(runId) {
      if (!isUuid(runId)) return undefined;
      const row = await db
        .selectFrom('runs')
        .select(['tenantId', 'budgetUsd', 'spentUsd'])
        .where('id', '=', runId)
        .executeTakeFirst();
      return (
        row && {
          tenantId: row.tenantId,
          budgetUsd: row.budgetUsd === null ? null : Number(row.budgetUsd),
          spentUsd: Number(row.spentUsd),
        }
      );
    },
  };
}
