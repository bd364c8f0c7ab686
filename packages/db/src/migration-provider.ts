import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './migrations/0001-core-tables';
import * as m0002 from './migrations/0002-step-functions';
import * as m0003 from './migrations/0003-llm-calls';
import * as m0004 from './migrations/0004-costs-reviews-conversations';
import * as m0005 from './migrations/0005-fence-step-completion';
import * as m0006 from './migrations/0006-step-batches';

/**
 * Every migration, by name, imported statically so a bundled image needs no filesystem scan.
 * Names sort in the order they run; a migration is frozen once released.
 */
export const migrations: Readonly<Record<string, Migration>> = {
  '0001-core-tables': m0001,
  '0002-step-functions': m0002,
  '0003-llm-calls': m0003,
  '0004-costs-reviews-conversations': m0004,
  '0005-fence-step-completion': m0005,
  '0006-step-batches': m0006,
};

/** The static provider handed to Kysely's `Migrator`. */
export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve({ ...migrations }),
};
