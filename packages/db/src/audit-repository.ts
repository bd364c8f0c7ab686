import type { Kysely } from 'kysely';
import type { DB } from './db';
import { toJson } from './json';
import { toAuditRow, type AuditRow } from './rows';

/** One audited action. `details` must be secret-free. */
export interface AuditEntry {
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  details?: Record<string, unknown>;
}

/** The append-only audit log. */
export interface AuditRepository {
  record(entry: AuditEntry): Promise<AuditRow>;
  /** Newest first. `limit` @default 50, at most 500. */
  list(options?: { targetId?: string; limit?: number }): Promise<AuditRow[]>;
}

/** Build the {@link AuditRepository}. */
export function createAuditRepository(db: Kysely<DB>, clock: () => Date): AuditRepository {
  return {
    async record(entry) {
      const row = await db
        .insertInto('auditLog')
        .values({
          at: clock(),
          actor: entry.actor,
          action: entry.action,
          targetType: entry.targetType,
          targetId: entry.targetId,
          details: toJson(entry.details ?? {}),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toAuditRow(row);
    },

    async list(options = {}) {
      let q = db.selectFrom('auditLog').selectAll();
      if (options.targetId !== undefined) q = q.where('targetId', '=', options.targetId);
      const limit = Math.min(Math.max(Math.trunc(options.limit ?? 50), 1), 500);
      const rows = await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map(toAuditRow);
    },
  };
}
