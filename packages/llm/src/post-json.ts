import type { z } from 'zod';
import { AppError, isAppError, toError } from '@agentry/schema';
import { retryAfterMsOfHeaders } from './retry-after';

/** Options of {@link postJson}. */
export interface PostJsonOptions {
  /** Provider name, for messages and details. */
  provider: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  fetch: typeof fetch;
  /** Wall clock, for HTTP-date `Retry-After`. */
  now: () => number;
  /** Secrets scrubbed from any text an error carries. */
  secrets: readonly string[];
}

/**
 * POST a JSON body and return the parsed JSON answer of a 2xx, under a deadline of `timeoutMs`
 * combined with the caller's signal. Every failure becomes an `AppError` (see `LlmProvider`).
 */
export async function postJson(options: PostJsonOptions): Promise<unknown> {
  const { provider, timeoutMs, signal } = options;
  const deadline = AbortSignal.timeout(timeoutMs);
  const combined = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
  let status = 0;
  let text: string;
  try {
    const response = await options.fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify(options.body),
      signal: combined,
    });
    status = response.status;
    // The body is read under the same signal: a provider that stalls mid-body times out too.
    text = await response.text();
    if (!response.ok) throw statusError(options, response.status, response.headers, text);
  } catch (caught) {
    if (isAppError(caught) && status !== 0 && !combined.aborted) throw caught;
    throw transportError(options, caught, deadline, signal);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (caught) {
    throw new AppError('TRANSIENT', `${provider}: answer is not JSON`, {
      cause: toError(caught),
      details: { provider, status, bodyStart: scrub(text.slice(0, 120), options.secrets) },
    });
  }
}

function transportError(
  options: PostJsonOptions,
  caught: unknown,
  deadline: AbortSignal,
  signal: AbortSignal | undefined,
): AppError {
  const { provider, timeoutMs } = options;
  const error = toError(caught);
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (isAppError(reason)) return reason;
    return new AppError('CANCELLED', `${provider}: call cancelled by the caller`, { cause: error });
  }
  if (deadline.aborted) {
    return new AppError('TIMEOUT', `${provider}: no answer within ${timeoutMs} ms`, {
      cause: error,
      details: { provider, timeoutMs },
    });
  }
  if (isAppError(caught)) return caught;
  // `TypeError('fetch failed')` and its kin: refused, reset, DNS. The cause names the socket error.
  return new AppError('TRANSIENT', `${provider}: request failed: ${error.message}`, {
    cause: error,
    details: { provider },
  });
}

function statusError(
  options: PostJsonOptions,
  status: number,
  headers: Headers,
  text: string,
): AppError {
  const { provider } = options;
  const details: Record<string, unknown> = {
    provider,
    status,
    upstream: scrub(upstreamMessage(text), options.secrets),
  };
  const message = `${provider}: HTTP ${status}`;
  if (status === 429) {
    const retryAfterMs = retryAfterMsOfHeaders(headers, options.now());
    if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
    return new AppError('RATE_LIMITED', `${message} (rate limited)`, { details });
  }
  if (status === 401 || status === 403) {
    return new AppError('POLICY_DENIED', `${message} (credential rejected)`, {
      details: { ...details, credentialRejected: true },
      retryable: false,
    });
  }
  // 529 is Anthropic's "overloaded".
  if (status === 503 || status === 529) {
    const retryAfterMs = retryAfterMsOfHeaders(headers, options.now());
    if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
    return new AppError('UNAVAILABLE', message, { details });
  }
  if (status >= 500 || status === 408) return new AppError('TRANSIENT', message, { details });
  return new AppError('VALIDATION', message, { details });
}

/** The provider's own error message, short; both APIs use `{ error: { message } }`. */
function upstreamMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string };
    const error = parsed.error;
    if (typeof error === 'string') return error.slice(0, 300);
    if (typeof error?.message === 'string') return error.message.slice(0, 300);
  } catch {
    // Not JSON: fall through to the raw start.
  }
  return text.slice(0, 120);
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/**
 * Resolve the key. An `AppError` from the source is passed on as it is (a missing variable is
 * `POLICY_DENIED`, not an outage); anything else is `UNAVAILABLE`. The key itself never shows.
 */
export async function resolveApiKey(
  source: () => string | Promise<string>,
  provider: string,
): Promise<string> {
  try {
    return await source();
  } catch (caught) {
    if (isAppError(caught)) throw caught;
    throw new AppError('UNAVAILABLE', `${provider}: could not resolve the API key`, {
      cause: toError(caught),
      details: { provider },
    });
  }
}

/**
 * {@link postJson}, then check the answer's shape: a 2xx whose body is not what the provider's
 * API promises is a `TRANSIENT` fault (a proxy's error page, a half-deployed gateway).
 */
export async function postJsonAs<S extends z.ZodType>(
  options: PostJsonOptions,
  answer: S,
): Promise<z.output<S>> {
  const parsed = answer.safeParse(await postJson(options));
  if (!parsed.success) {
    throw new AppError('TRANSIENT', `${options.provider}: unexpected answer shape`, {
      details: { provider: options.provider, issues: parsed.error.issues },
    });
  }
  return parsed.data;
}
