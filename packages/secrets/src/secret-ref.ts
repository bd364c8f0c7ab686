import { AppError } from '@agentry/schema';

/**
 * A parsed secret reference. Forms:
 * - `aws://<secret-id>[#<json-key>][?stage=AWSCURRENT|AWSPREVIOUS|<label>][&version=<id>]`
 *   (`secret-id` is a name like `prod/agentry/db` or a full ARN, percent-encoded where needed);
 * - `vault://<mount>/<path>[#<json-key>][?version=<n>]` (KV v2: `vault://kv/agentry/llm#api_key`);
 * - `env://<NAME>`;
 * - `file:///<absolute/path>[#<json-key>]` (a Kubernetes-mounted secret file).
 */
export interface SecretRef {
  /** The reference as written, the cache and audit key. Never contains a value. */
  readonly raw: string;
  readonly scheme: 'aws' | 'vault' | 'env' | 'file';
  /** aws: secret id; vault: `<mount>/<path>`; env: variable name; file: absolute path. */
  readonly id: string;
  /** The JSON key to select from a JSON secret. */
  readonly key?: string;
  /** aws: version stage. */
  readonly stage?: string;
  /** aws: VersionId; vault: KV version number. */
  readonly version?: string;
}

/** True when `text` looks like a secret reference (any of the four schemes). */
export function isSecretRef(text: string): boolean {
  return /^(aws|vault|env|file):\/\//.test(text);
}

/** Parse a reference; throws `AppError('VALIDATION')` naming what is wrong (never echoing a value). */
export function parseSecretRef(raw: string): SecretRef {
  const match = /^(aws|vault|env|file):\/\/([^#?]*)(?:#([^?]*))?(?:\?(.*))?$/.exec(raw);
  if (match === null) {
    throw new AppError(
      'VALIDATION',
      'not a secret reference: expected aws://, vault://, env:// or file:// (the text is not shown)',
    );
  }
  const scheme = match[1] as SecretRef['scheme'];
  const id = decodeURIComponent(match[2] ?? '');
  const key = match[3] === undefined || match[3] === '' ? undefined : decodeURIComponent(match[3]);
  const query = new URLSearchParams(match[4] ?? '');
  const stage = query.get('stage') ?? undefined;
  const version = query.get('version') ?? undefined;
  const bad = (why: string) =>
    new AppError('VALIDATION', `secret reference ${scheme}://…: ${why}`, { details: { scheme } });
  if (id === '') throw bad('names no secret');
  if (scheme === 'env' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(id)) {
    throw bad('an environment variable name is letters, digits and _');
  }
  if (scheme === 'env' && (key ?? stage ?? version) !== undefined) {
    throw bad('env:// takes no #key or query');
  }
  if (scheme === 'file' && !id.startsWith('/')) throw bad('file:// needs an absolute path');
  if (scheme === 'vault' && !/^[^/]+\/.+/.test(id)) throw bad('vault:// is <mount>/<path>');
  if (scheme !== 'aws' && stage !== undefined) throw bad('only aws:// takes ?stage=');
  if (scheme === 'vault' && version !== undefined && !/^\d+$/.test(version)) {
    throw bad('a Vault KV version is a number');
  }
  return {
    raw,
    scheme,
    id,
    ...(key === undefined ? {} : { key }),
    ...(stage === undefined ? {} : { stage }),
    ...(version === undefined ? {} : { version }),
  };
}
