import type { AuditRepository } from '@agentry/db';
import type { SecretAuditEvent } from '@agentry/secrets';
import { toError } from '@agentry/schema';

/** The logging surface the audit sink needs. */
export interface AuditLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Where secret audit events go: a log line each, and the `audit_log` table once it is open. */
export interface SecretAuditSink {
  record(event: SecretAuditEvent): void;
  /** Start writing to the table; events seen before (opening the database) are written now. */
  attach(repository: AuditRepository): void;
  /** Wait for the rows being written (before closing the database). */
  flush(): Promise<void>;
}

/** Events kept until the database is open (secrets read to open it, at most a few). */
const maxEarly = 100;

/**
 * Every secret event is a log line (`secret read`, `secret stale`, …: reference, actor, outcome,
 * version, never the value) and a row in `audit_log` (`action: secret.<action>`,
 * `target_type: secret`). Writing is best effort and never blocks a read: a failed insert is a
 * warning.
 */
export function secretAuditSink(log: AuditLog): SecretAuditSink {
  let repository: AuditRepository | undefined;
  const early: SecretAuditEvent[] = [];
  const pending = new Set<Promise<unknown>>();
  const write = (event: SecretAuditEvent): void => {
    if (repository === undefined) {
      if (early.length < maxEarly) early.push(event);
      return;
    }
    const { action, ref, actor, outcome, version, errorCode, reason } = event;
    const written = repository
      .record({
        actor,
        action: `secret.${action}`,
        targetType: 'secret',
        targetId: ref,
        details: { outcome, at: event.at.toISOString(), version, errorCode, reason },
      })
      .catch((e: unknown) => {
        log.warn({ ref, action, err: { message: toError(e).message } }, 'secret audit not stored');
      })
      .finally(() => pending.delete(written));
    pending.add(written);
  };
  return {
    record(event) {
      const { action, ref, outcome, version, errorCode, reason } = event;
      const fields = { secretRef: ref, action, outcome, version, errorCode, reason };
      if (outcome === 'error' || action === 'stale') log.warn(fields, `secret ${action}`);
      else log.info(fields, `secret ${action}`);
      write(event);
    },
    attach(repo) {
      repository = repo;
      for (const event of early.splice(0)) write(event);
    },
    async flush() {
      await Promise.all([...pending]);
    },
  };
}
