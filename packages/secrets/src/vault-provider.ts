import { AppError } from '@agentry/schema';
import type { SecretProvider, SecretValue } from './secret-provider';
import type { SecretRef } from './secret-ref';
import { createVaultSession, type VaultAuth } from './vault-auth';
import { vaultFailure, vaultFetch, type VaultAnswer, type VaultRequest } from './vault-http';
import {
  kvCurrentVersion,
  kvKey,
  kvLocation,
  kvSecret,
  kvValue,
  kvWrittenVersion,
  type KvSecret,
} from './vault-kv';

export type { VaultAuth } from './vault-auth';

export interface VaultProviderOptions {
  /** Vault's address, e.g. `https://vault.internal:8200` (without `/v1`). */
  address: string;
  /** Vault Enterprise namespace, sent as `X-Vault-Namespace` on every call, logins included. */
  namespace?: string;
  auth: VaultAuth;
  /** Deadline of one `get` or `rotate`, any login included (and of a background renewal). @default 5000 */
  timeoutMs?: number;
  /**
   * Renew the token with `renew-self` at 2/3 of its lease (an unref'd timer). When renewal fails or
   * the lease is not renewable, nothing is logged; the next call logs in again. @default true
   */
  renew?: boolean;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** The clock the token's lease is measured with. @default Date.now */
  now?: () => number;
  /**
   * Hears every credential the provider holds — the configured token or AppRole secret id, the
   * service-account JWT, each login's token — so the store's scrubber keeps them out of logs.
   */
  onCredential?: (value: string) => void;
}

/** A {@link SecretProvider} for Vault KV v2; `rotate` and `close` are always there. */
export interface VaultProvider extends SecretProvider {
  rotate(ref: SecretRef, newValue: string, signal?: AbortSignal): Promise<SecretValue>;
  /** Stop token renewal and any login under way; later calls reject `CANCELLED`. Safe twice. */
  close(): Promise<void>;
}

/**
 * Reads and rotates `vault://<mount>/<path>[#key][?version=<n>]` in a KV v2 engine.
 *
 * `get` returns `#key`'s value — or, without `#key`, the value of the secret's only key (a secret
 * with several keys and no `#key` is `VALIDATION`: name a key) — and the KV version. `rotate` sets
 * that key on the latest version, keeping the others, with check-and-set on the version read, so a
 * concurrent rotation fails `CONFLICT` instead of being overwritten.
 *
 * Errors: 403 after one fresh login (AppRole, Kubernetes) → `POLICY_DENIED` with
 * `details.credentialRejected`; 404 → `NOT_FOUND`; sealed, 5xx, unreachable → `UNAVAILABLE`;
 * deadline → `TIMEOUT`; caller's abort → `CANCELLED`. The only retry is that one after a re-login.
 * Neither the token nor a value ever appears in an error or a result.
 */
export function vaultProvider(options: VaultProviderOptions): VaultProvider {
  const { timeoutMs = 5_000, renew = true, now = Date.now } = options;
  const http = {
    address: options.address,
    fetch: options.fetch ?? globalThis.fetch,
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
  };
  const session = createVaultSession({
    http,
    auth: options.auth,
    timeoutMs,
    renew,
    now,
    ...(options.onCredential ? { onCredential: options.onCredential } : {}),
  });

  /** The call with the session's token; after a 403, once more with a fresh login's token. */
  async function authorised(request: Omit<VaultRequest, 'token'>): Promise<VaultAnswer> {
    const token = await session.token(request.signal);
    const answer = await vaultFetch(http, { ...request, token });
    if (answer.status !== 403 || !session.rejected(token)) return answer;
    return vaultFetch(http, { ...request, token: await session.token(request.signal) });
  }

  /** The latest data and version to check-and-set against: `{}` and 0 for a new secret. */
  async function latest(
    ref: SecretRef,
    mount: string,
    path: string,
    signal: AbortSignal,
  ): Promise<KvSecret> {
    const read = await authorised({ method: 'GET', path: `${mount}/data/${path}`, signal });
    if (read.status === 200) return kvSecret(ref, read);
    if (read.status !== 404) throw vaultFailure(read, ref.raw);
    // No secret, or its latest version is deleted: check-and-set needs the version number.
    const meta = await authorised({ method: 'GET', path: `${mount}/metadata/${path}`, signal });
    if (meta.status === 404) return { data: {}, version: 0 };
    if (meta.status !== 200) throw vaultFailure(meta, ref.raw);
    return { data: {}, version: kvCurrentVersion(ref, meta) };
  }

  async function withDeadline<T>(
    ref: SecretRef,
    signal: AbortSignal | undefined,
    run: (deadline: AbortSignal) => Promise<T>,
  ): Promise<T> {
    if (ref.scheme !== 'vault') {
      throw new AppError('VALIDATION', `${ref.raw}: the Vault provider serves vault:// only`);
    }
    const timeout = AbortSignal.timeout(timeoutMs);
    return run(signal === undefined ? timeout : AbortSignal.any([timeout, signal]));
  }

  return {
    scheme: 'vault',

    get(ref, signal) {
      return withDeadline(ref, signal, async (deadline) => {
        const { mount, path } = kvLocation(ref);
        const query =
          ref.version === undefined ? '' : `?version=${encodeURIComponent(ref.version)}`;
        const answer = await authorised({
          method: 'GET',
          path: `${mount}/data/${path}${query}`,
          signal: deadline,
        });
        if (answer.status !== 200) throw vaultFailure(answer, ref.raw);
        const secret = kvSecret(ref, answer);
        return { value: kvValue(ref, secret.data), version: String(secret.version) };
      });
    },

    rotate(ref, newValue, signal) {
      return withDeadline(ref, signal, async (deadline) => {
        if (ref.version !== undefined) {
          throw new AppError('VALIDATION', `${ref.raw}: a pinned ?version= cannot be rotated`);
        }
        const { mount, path } = kvLocation(ref);
        const current = await latest(ref, mount, path, deadline);
        const data = { ...current.data, [kvKey(ref, current.data)]: newValue };
        const answer = await authorised({
          method: 'POST',
          path: `${mount}/data/${path}`,
          body: { data, options: { cas: current.version } },
          signal: deadline,
        });
        if (answer.status !== 200) {
          const hide = Object.values(data).filter((v): v is string => typeof v === 'string');
          throw vaultFailure(answer, ref.raw, { hide });
        }
        return { value: newValue, version: String(kvWrittenVersion(ref, answer)) };
      });
    },

    close() {
      session.close();
      return Promise.resolve();
    },
  };
}
