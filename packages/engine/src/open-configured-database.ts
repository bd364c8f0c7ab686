import { join } from 'node:path';
import { openDatabase, type Database, type DatabaseLogger } from '@agentry/db';
import type { CommonConfig } from '@agentry/schema';
import { isSecretRef, type SecretStore } from '@agentry/secrets';

/**
 * The database `config` names: `DATABASE_URL` (a value or a secret reference, read once), its
 * password reference read for every new connection and dropped when the server refuses it, or
 * the embedded database under `AGENTRY_DATA_DIR`.
 */
export async function openConfiguredDatabase(
  config: CommonConfig,
  secrets: Pick<SecretStore, 'get' | 'invalidate'>,
  log?: DatabaseLogger,
): Promise<Database> {
  const url = config.databaseUrl;
  const passwordRef = config.databasePasswordRef;
  return openDatabase({
    url: url !== undefined && isSecretRef(url) ? await secrets.get(url) : url,
    ...(passwordRef === undefined
      ? {}
      : {
          password: () => secrets.get(passwordRef),
          onAuthFailure: () => secrets.invalidate(passwordRef, 'the database refused the password'),
        }),
    dataDir: join(config.dataDir, 'pgdata'),
    schema: config.databaseSchema,
    ...(log === undefined ? {} : { log }),
  });
}
