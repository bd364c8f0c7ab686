import { z } from 'zod';
import { AppError } from '@agentry/schema';
import type { SecretRef } from './secret-ref';
import { selectKey } from './select-key';
import type { VaultAnswer } from './vault-http';

/** A KV v2 secret version as read. */
export interface KvSecret {
  data: Record<string, unknown>;
  version: number;
}

const KvRead = z.object({
  data: z.object({
    data: z.record(z.string(), z.unknown()).nullable(),
    metadata: z.object({ version: z.number() }),
  }),
});
const KvWrite = z.object({ data: z.object({ version: z.number() }) });
const KvMetadata = z.object({ data: z.object({ current_version: z.number() }) });

/** `ref.id` split into the KV mount and the secret's path, each percent-encoded for a URL. */
export function kvLocation(ref: SecretRef): { mount: string; path: string } {
  const segments = ref.id.split('/');
  // `..` would be resolved by the URL parser and could leave the mount: refuse it.
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    throw new AppError('VALIDATION', `${ref.raw}: a Vault path has no . or .. segments`);
  }
  const [mount = '', ...rest] = segments.map(encodeURIComponent);
  return { mount, path: rest.join('/') };
}

/** The secret in a 200 answer to `GET <mount>/data/<path>`; `VALIDATION` if it is not KV v2. */
export function kvSecret(ref: SecretRef, answer: VaultAnswer): KvSecret {
  const parsed = KvRead.safeParse(answer.body);
  if (!parsed.success) throw notKv2(ref);
  const { data, metadata } = parsed.data.data;
  if (data === null) throw new AppError('NOT_FOUND', `${ref.raw}: the version is deleted in Vault`);
  return { data, version: metadata.version };
}

/** The version a 200 answer to a KV v2 write created. */
export function kvWrittenVersion(ref: SecretRef, answer: VaultAnswer): number {
  const parsed = KvWrite.safeParse(answer.body);
  if (!parsed.success) throw notKv2(ref);
  return parsed.data.data.version;
}

/** `current_version` from a 200 answer to `GET <mount>/metadata/<path>`. */
export function kvCurrentVersion(ref: SecretRef, answer: VaultAnswer): number {
  const parsed = KvMetadata.safeParse(answer.body);
  if (!parsed.success) throw notKv2(ref);
  return parsed.data.data.current_version;
}

/**
 * The value `ref` names in a secret's data: `#key`'s value (a string, or a number/boolean as
 * text), or without `#key` the value of the secret's only key. Throws `VALIDATION` when the
 * secret has several keys and none is named, `NOT_FOUND` for a missing key; never echoes a value.
 */
export function kvValue(ref: SecretRef, data: Record<string, unknown>): string {
  return selectKey({ ...ref, key: kvKey(ref, data) }, JSON.stringify(data));
}

/** The key `ref` reads or writes: its `#key`, else the secret's only key. */
export function kvKey(ref: SecretRef, data: Record<string, unknown>): string {
  if (ref.key !== undefined) return ref.key;
  const keys = Object.keys(data);
  if (keys.length === 1 && keys[0] !== undefined) return keys[0];
  throw new AppError(
    'VALIDATION',
    `${ref.raw}: the Vault secret has ${keys.length} keys; name one with #key`,
    { details: { keys: keys.length } },
  );
}

function notKv2(ref: SecretRef): AppError {
  return new AppError(
    'VALIDATION',
    `${ref.raw}: Vault's answer is not KV v2 (is it a KV v2 mount?)`,
    {
      retryable: false,
    },
  );
}
