import type { Kysely } from 'kysely';
import type { DB } from './db';

/** Placeholder: being written. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface BudgetRepository {}

/** Build the {@link BudgetRepository}. */
export function createBudgetRepository(_db: Kysely<DB>, _clock: () => Date): BudgetRepository {
  return {};
}
