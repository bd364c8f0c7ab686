import { hostname } from 'node:os';
import { commonEnv, parseEnv, toCommonConfig, type CommonConfig } from '@agentry/schema';
import {
  isSecretRef,
  openSecretStore,
  type SecretAuditEvent,
  type SecretStore,
} from '@agentry/secrets';

/**
 * A secret store for one CLI command, over the same settings as the fleet's processes. Its audit
 * events are written to stderr (the command's operator sees them), never a value.
 */
export async function openCliSecretStore(
  env: Record<string, string | undefined>,
): Promise<{ store: SecretStore; config: CommonConfig }> {
  const config = toCommonConfig(parseEnv(commonEnv, env));
  const store = await openSecretStore(config.secrets, {
    actor: `cli@${hostname()}:${process.pid}`,
    production: config.env === 'production',
    env,
    onAudit: (event: SecretAuditEvent) => {
      const why = event.errorCode ? ` [${event.errorCode}] ${event.reason ?? ''}` : '';
      console.error(`audit: secret ${event.action} ${event.ref} ${event.outcome}${why}`.trimEnd());
    },
  });
  return { store, config };
}

/** `AGENTRY_API_TOKEN` as the CLI sends it: the value, or what its secret reference holds. */
export async function resolveApiToken(
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  const token = env.AGENTRY_API_TOKEN;
  if (token === undefined || token === '' || !isSecretRef(token)) return token || undefined;
  const { store } = await openCliSecretStore(env);
  try {
    return await store.get(token);
  } finally {
    await store.close();
  }
}
