import type { Kysely } from 'kysely';
import type { DB } from './db';

/** Placeholder: being written. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CostReportRepository {}

/** Build the {@link CostReportRepository}. */
export function createCostReportRepository(_db: Kysely<DB>, _clock: () => Date): CostReportRepository {
  return {};
}
