import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';

/**
 * agentry's schema as the database holds it: every column, index, constraint, function (with its
 * body) and trigger of the connection's current schema, Kysely's bookkeeping tables excluded.
 * Two snapshots are equal exactly when a migration's `down` restored what its `up` changed.
 */
export interface SchemaSnapshot {
  columns: Array<Record<string, unknown>>;
  indexes: Array<Record<string, unknown>>;
  constraints: Array<Record<string, unknown>>;
  routines: Array<Record<string, unknown>>;
  triggers: Array<Record<string, unknown>>;
}

/** Read the current schema's {@link SchemaSnapshot} (sorted, so it compares as a value). */
export async function schemaSnapshot<T>(db: Kysely<T>): Promise<SchemaSnapshot> {
  const plain = db.withoutPlugins();
  const { rows: columns } = await sql<Record<string, unknown>>`
    select table_name, column_name, data_type, is_nullable, column_default
    from information_schema.columns where table_schema = current_schema()
      and table_name not like 'kysely_%' order by 1, 2`.execute(plain);
  const { rows: indexes } = await sql<Record<string, unknown>>`
    select indexname, indexdef from pg_indexes where schemaname = current_schema()
      and tablename not like 'kysely_%' order by 1`.execute(plain);
  const { rows: constraints } = await sql<Record<string, unknown>>`
    select c.conname, pg_get_constraintdef(c.oid) as def from pg_constraint c
      join pg_namespace n on n.oid = c.connamespace
    where n.nspname = current_schema() and c.conname not like 'kysely_%'
    order by 1, 2`.execute(plain);
  const { rows: routines } = await sql<Record<string, unknown>>`
    select p.proname, pg_get_function_identity_arguments(p.oid) as args, p.prosrc
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = current_schema() order by 1, 2`.execute(plain);
  const { rows: triggers } = await sql<Record<string, unknown>>`
    select t.tgname, c.relname as table_name from pg_trigger t
      join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and not t.tgisinternal order by 1, 2`.execute(plain);
  return { columns, indexes, constraints, routines, triggers };
}

/** `sha256:<hex>` of the {@link schemaSnapshot}: equal fingerprints, equal schemas. */
export async function schemaFingerprint<T>(db: Kysely<T>): Promise<string> {
  const snapshot = await schemaSnapshot(db);
  return `sha256:${createHash('sha256').update(JSON.stringify(snapshot)).digest('hex')}`;
}
