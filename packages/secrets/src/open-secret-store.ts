import { readFile } from 'node:fs/promises';
import { AppError, type SecretsSettings } from '@agentry/schema';
import { awsSecretsManagerProvider } from './aws-provider';
import { envProvider } from './env-provider';
import { fileProvider } from './file-provider';
import { createScrubber } from './scrubber';
import type { SecretProvider } from './secret-provider';
import { parseSecretRef } from './secret-ref';
import { createSecretStore } from './secret-store';
import type { SecretAuditEvent, SecretStore, Scrubber } from './secret-store-contract';
import { vaultProvider, type VaultProviderOptions } from './vault-provider';

/** Options of {@link openSecretStore}. */
export interface OpenSecretStoreOptions {
  /** Who reads: `<component>@<host>:<pid>`, recorded with every audit event. */
  actor: string;
  /** `AGENTRY_ENV=production`: env:// references are refused unless explicitly allowed. */
  production: boolean;
  onAudit?: (event: SecretAuditEvent) => void;
  /** Share one with the logger, so every resolved value is scrubbed from log lines. */
  scrubber?: Scrubber;
  /** Where env:// references and the AWS/Vault fallbacks (`AWS_REGION`, `VAULT_ADDR`) are read. */
  env?: Record<string, string | undefined>;
}

/**
 * The secret store of a process, from its settings: env:// and file:// always, aws:// when a
 * region is known, vault:// when an address is. A reference to a backend that is not configured
 * fails with a `VALIDATION` error naming the setting to add. Vault's own credential (token or
 * AppRole secret id) is read at the first vault:// read, from env:// or file:// only.
 */
export async function openSecretStore(
  settings: SecretsSettings,
  options: OpenSecretStoreOptions,
): Promise<SecretStore> {
  const env = options.env ?? process.env;
  const production = options.production;
  const scrubber = options.scrubber ?? createScrubber();
  const providers: SecretProvider[] = [
    envProvider({ env, production, allowInProduction: settings.allowEnvInProduction }),
    fileProvider({}),
  ];
  const region = settings.aws.region ?? env.AWS_REGION;
  if (region !== undefined) {
    providers.push(
      awsSecretsManagerProvider({
        region,
        ...(settings.aws.endpoint === undefined ? {} : { endpoint: settings.aws.endpoint }),
      }),
    );
  } else providers.push(missing('aws', 'AGENTRY_SECRETS_AWS_REGION (or AWS_REGION)'));
  const address = settings.vault.address ?? env.VAULT_ADDR;
  if (address !== undefined) {
    // Logged in on the first vault:// read only: an ambient VAULT_ADDR (Vault Agent sets one)
    // must not make a process that uses no vault:// reference need a Vault credential.
    providers.push(
      lazyProvider('vault', async () =>
        vaultProvider({
          address,
          ...(settings.vault.namespace === undefined
            ? {}
            : { namespace: settings.vault.namespace }),
          auth: await vaultAuth(settings.vault, env, production, settings.allowEnvInProduction),
          onCredential: (value) => scrubber.add(value),
        }),
      ),
    );
  } else providers.push(missing('vault', 'AGENTRY_SECRETS_VAULT_ADDR (or VAULT_ADDR)'));
  return createSecretStore({
    providers,
    actor: options.actor,
    ttlMs: settings.ttlMs,
    staleForMs: settings.staleMs,
    ...(options.onAudit ? { onAudit: options.onAudit } : {}),
    scrubber,
  });
}

/** A provider built on its first use (a failed build is retried on the next use). */
function lazyProvider(
  scheme: SecretProvider['scheme'],
  build: () => Promise<SecretProvider>,
): SecretProvider {
  let built: Promise<SecretProvider> | undefined;
  const provider = (): Promise<SecretProvider> => {
    built ??= build().catch((e: unknown) => {
      built = undefined;
      throw e;
    });
    return built;
  };
  return {
    scheme,
    get: async (ref, signal) => (await provider()).get(ref, signal),
    rotate: async (ref, value, signal) => {
      const p = await provider();
      if (p.rotate === undefined) {
        throw new AppError('VALIDATION', `rotation is not supported for ${scheme}://`);
      }
      return p.rotate(ref, value, signal);
    },
    close: async () => {
      if (built !== undefined) await (await built.catch(() => undefined))?.close?.();
    },
  };
}

/** A provider for a scheme whose backend is not configured: every read names the setting. */
function missing(scheme: 'aws' | 'vault', setting: string): SecretProvider {
  return {
    scheme,
    get: (ref) =>
      Promise.reject(
        new AppError('VALIDATION', `${ref.raw}: ${scheme}:// references need ${setting}`, {
          retryable: false,
        }),
      ),
  };
}

async function vaultAuth(
  vault: SecretsSettings['vault'],
  env: Record<string, string | undefined>,
  production: boolean,
  allowEnvInProduction: boolean,
): Promise<VaultProviderOptions['auth']> {
  const bootstrap = async (raw: string, setting: string): Promise<string> => {
    const ref = parseSecretRef(raw);
    if (ref.scheme === 'file') return (await readFile(ref.id, 'utf8')).trim();
    if (ref.scheme !== 'env') {
      throw new AppError('VALIDATION', `${setting} must be env:// or file:// (it unlocks Vault)`);
    }
    const provider = envProvider({ env, production, allowInProduction: allowEnvInProduction });
    return (await provider.get(ref)).value;
  };
  switch (vault.auth) {
    case 'token': {
      const ref = parseSecretRef(vault.tokenRef);
      // A file (a Vault Agent sink) is read again after Vault refuses the token in use.
      const token =
        ref.scheme === 'file'
          ? () => bootstrap(vault.tokenRef, 'AGENTRY_SECRETS_VAULT_TOKEN_REF')
          : await bootstrap(vault.tokenRef, 'AGENTRY_SECRETS_VAULT_TOKEN_REF');
      return { method: 'token', token };
    }
    case 'approle': {
      const secretIdRef = vault.secretIdRef;
      if (vault.roleId === undefined || secretIdRef === undefined) {
        throw new AppError(
          'VALIDATION',
          'approle auth needs AGENTRY_SECRETS_VAULT_ROLE_ID and AGENTRY_SECRETS_VAULT_SECRET_ID_REF',
        );
      }
      return {
        method: 'approle',
        roleId: vault.roleId,
        // Read for every login: a re-issued secret id (file) is picked up without a restart.
        secretId: () => bootstrap(secretIdRef, 'AGENTRY_SECRETS_VAULT_SECRET_ID_REF'),
      };
    }
    case 'kubernetes':
      if (vault.role === undefined) {
        throw new AppError('VALIDATION', 'kubernetes auth needs AGENTRY_SECRETS_VAULT_ROLE');
      }
      return { method: 'kubernetes', role: vault.role, jwtPath: vault.jwtPath };
  }
}
