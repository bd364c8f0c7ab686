import { AppError, isAppError, toError } from '@agentry/schema';

/** Where Vault is and how to reach it; shared by the session and the KV calls. */
export interface VaultHttp {
  /** e.g. `https://vault.internal:8200` (no `/v1`). */
  address: string;
  /** Vault Enterprise namespace, sent as `X-Vault-Namespace` on every call. */
  namespace?: string;
  fetch: typeof fetch;
}

export interface VaultRequest {
  method: 'GET' | 'POST';
  /** The API path after `/v1/`, already percent-encoded, with its query if any. */
  path: string;
  token?: string;
  body?: unknown;
  signal: AbortSignal;
}

/** Any HTTP answer from Vault. */
export interface VaultAnswer {
  status: number;
  /** The parsed JSON body; undefined when empty or not JSON. */
  body: unknown;
  /** Vault's `{"errors":[...]}` strings (empty for a bare 404). */
  errors: string[];
}

/**
 * One Vault API call. Resolves with whatever HTTP answer came back; rejects only with `TIMEOUT`
 * (the signal's deadline passed), `CANCELLED` (the signal was aborted otherwise) or `UNAVAILABLE`
 * (no answer). An aborted call closes its connection. Nothing it throws names the token.
 */
export async function vaultFetch(http: VaultHttp, request: VaultRequest): Promise<VaultAnswer> {
  const headers: Record<string, string> = { 'x-vault-request': 'true' };
  if (request.token !== undefined) headers['x-vault-token'] = request.token;
  if (http.namespace !== undefined) headers['x-vault-namespace'] = http.namespace;
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  const url = `${http.address.replace(/\/+$/, '')}/v1/${request.path}`;
  try {
    const response = await http.fetch(url, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: request.signal,
    });
    const body = parseJson(await response.text());
    return { status: response.status, body, errors: errorsOf(body) };
  } catch (caught) {
    throw abortOrNetwork(caught, request.signal, `Vault ${request.method} /v1/${request.path}`);
  }
}

/** `TIMEOUT` or `CANCELLED` when `signal` is aborted, else `UNAVAILABLE` (an AppError is kept). */
export function abortOrNetwork(caught: unknown, signal: AbortSignal, what: string): AppError {
  if (isAppError(caught)) return caught;
  const cause = toError(caught);
  if (signal.aborted) {
    return toError(signal.reason).name === 'TimeoutError'
      ? new AppError('TIMEOUT', `${what}: no answer before the deadline`, { cause })
      : new AppError('CANCELLED', `${what}: cancelled`, { cause });
  }
  return new AppError('UNAVAILABLE', `${what}: Vault could not be reached`, { cause });
}

export interface FailureOptions {
  /** Strings that must not reach the error (credentials, values sent); cut from Vault's text. */
  hide?: readonly string[];
  /** A login: Vault answers a bad credential with 400 as well as 403. */
  login?: boolean;
}

/**
 * The AppError for a non-2xx answer: 400 check-and-set → `CONFLICT`; 401/403 (and a login's 400)
 * → `POLICY_DENIED` with `details.credentialRejected`; 404 → `NOT_FOUND`; 412 → `TRANSIENT`;
 * 429 → `RATE_LIMITED`; 5xx (503: sealed or standby) → `UNAVAILABLE`; other 4xx → `VALIDATION`.
 */
export function vaultFailure(
  answer: VaultAnswer,
  what: string,
  options: FailureOptions = {},
): AppError {
  const { status } = answer;
  const vaultErrors = answer.errors
    .slice(0, 3)
    .map((text) => redact(text, options.hide ?? []).slice(0, 200));
  const details = { status, ...(vaultErrors.length > 0 ? { vaultErrors } : {}) };
  const fail = (code: AppError['code'], why: string, extra: Record<string, unknown> = {}) =>
    new AppError(code, `${what}: ${why}`, { details: { ...details, ...extra } });
  if (status === 400 && answer.errors.some((text) => text.includes('check-and-set'))) {
    return fail('CONFLICT', 'the secret changed since it was read (check-and-set)');
  }
  if (status === 401 || status === 403 || (options.login === true && status === 400)) {
    return fail('POLICY_DENIED', 'Vault refused the credential or the path', {
      credentialRejected: true,
    });
  }
  if (status === 404) return fail('NOT_FOUND', 'no such secret or version in Vault');
  if (status === 412) return fail('TRANSIENT', 'Vault is not yet consistent (412)');
  if (status === 429) return fail('RATE_LIMITED', 'Vault rate limit (429)');
  if (status === 503) return fail('UNAVAILABLE', 'Vault is sealed or in standby (503)');
  if (status >= 500) return fail('UNAVAILABLE', `Vault failed (HTTP ${status})`);
  return fail('VALIDATION', `Vault refused the request (HTTP ${status})`);
}

function redact(text: string, hide: readonly string[]): string {
  let out = text;
  for (const secret of hide) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorsOf(body: unknown): string[] {
  const errors = (body as { errors?: unknown } | null | undefined)?.errors;
  return Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string') : [];
}
