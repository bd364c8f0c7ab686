import { hostname } from 'node:os';
import { createRepositories, type AuditRepository, type Database } from '@agentry/db';
import { openConfiguredDatabase, secretAuditSink } from '@agentry/engine';
import { commonEnv, parseEnv, toCommonConfig, toError, type CommonConfig } from '@agentry/schema';
import { isSecretRef, openSecretStore, type SecretStore } from '@agentry/secrets';

/** A secret store for one CLI command, and how to end it. */
export interface CliSecrets {
  store: SecretStore;
  config: CommonConfig;
  actor: string;
  /** The `audit_log` of the configured database, when `auditToDatabase` could open it. */
  audit: AuditRepository | undefined;
  /** Write the pending audit rows, close the store and the database. */
  close(): Promise<void>;
}

/** Audit lines go to stderr: the operator running the command sees them. */
const stderrLog = {
  info: (fields: object, msg?: string) =>
    console.error(`audit: ${msg ?? ''} ${JSON.stringify(fields)}`),
  warn: (fields: object, msg?: string) =>
    console.error(`audit: ${msg ?? ''} ${JSON.stringify(fields)}`),
};

/**
 * A secret store for one CLI command, over the same settings as the fleet's processes. Its audit
 * events are written to stderr and, with `auditToDatabase` and a configured `DATABASE_URL`, to
 * `audit_log` as the processes' are (never a value). A database that cannot be opened leaves the
 * audit on stderr, with a warning.
 */
export async function openCliSecretStore(
  env: Record<string, string | undefined>,
  options: { auditToDatabase?: boolean } = {},
): Promise<CliSecrets> {
  const config = toCommonConfig(parseEnv(commonEnv, env));
  const actor = `cli@${hostname()}:${process.pid}`;
  const sink = secretAuditSink(stderrLog);
  const store = await openSecretStore(config.secrets, {
    actor,
    production: config.env === 'production',
    env,
    onAudit: (event) => sink.record(event),
  });
  let database: Database | undefined;
  let audit: AuditRepository | undefined;
  if (options.auditToDatabase && config.databaseUrl !== undefined) {
    try {
      database = await openConfiguredDatabase(config, store);
      audit = createRepositories(database.db).audit;
      sink.attach(audit);
    } catch (e) {
      console.error(`audit: audit_log unavailable (${toError(e).message}); stderr only`);
    }
  }
  return {
    store,
    config,
    actor,
    audit,
    async close() {
      await sink.flush();
      await store.close();
      await database?.close();
    },
  };
}

/** `AGENTRY_API_TOKEN` as the CLI sends it: the value, or what its secret reference holds. */
export async function resolveApiToken(
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  const token = env.AGENTRY_API_TOKEN;
  if (token === undefined || token === '' || !isSecretRef(token)) return token || undefined;
  const secrets = await openCliSecretStore(env);
  try {
    return await secrets.store.get(token);
  } finally {
    await secrets.close();
  }
}
