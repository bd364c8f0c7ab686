import type { Kysely } from 'kysely';
import type { DB } from './db';
import { createMigrator } from './create-migrator';

/** A known migration and when it was applied (`null`: pending). */
export interface MigrationStatusEntry {
  name: string;
  executedAt: Date | null;
}

/** Every known migration in order, with when it was applied. Read-only; safe on a live database. */
export async function migrationStatus(db: Kysely<DB>): Promise<MigrationStatusEntry[]> {
  const migrator = await createMigrator(db);
  return (await migrator.getMigrations()).map((m) => ({
    name: m.name,
    executedAt: m.executedAt ?? null,
  }));
}
