import type { IncomingHttpHeaders } from 'node:http';
import { AppError, isAppError, toError } from '@agentry/schema';
import { abortError } from './abort-error';
import { amendAppError } from '@agentry/schema';
import { displayUrl } from './display-url';
import { httpStatusError } from './http-status-error';
import { sendHttpRequest } from './send-http-request';
import type { UrlGuard } from './url-guard';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

export interface GuardedHttpRequest {
  url: string;
  method: HttpMethod;
  /** Names are matched case-insensitively; `host`, `content-length` are set by the client. */
  headers?: Readonly<Record<string, string>>;
  body?: string;
  /** Bound on the whole call: every hop, headers and body. */
  timeoutMs: number;
  maxResponseBytes: number;
  /** Cut the body at `maxResponseBytes` instead of refusing it. @default false */
  truncate?: boolean;
  /** Redirects to follow; one more is refused. @default 5 */
  maxRedirects?: number;
  /** Sent as `Idempotency-Key` on every method but GET and HEAD. */
  idempotencyKey?: string;
  signal: AbortSignal;
}

export interface GuardedHttpResponse {
  status: number;
  /** The {@link safeResponseHeaders} subset, lower-case names. */
  headers: Record<string, string>;
  body: string;
  truncated: boolean;
  durationMs: number;
  /** Final URL after redirects, credentials and secret query values removed. */
  url: string;
}

export interface GuardedHttpClient {
  /**
   * Send a request through the URL guard, hop by hop: each redirect target is vetted again
   * before it is contacted, and each hop connects to the vetted address. Resolves for 1xx–3xx
   * (a 3xx only when it has no Location); rejects with an AppError only — `POLICY_DENIED`,
   * `TIMEOUT` (own timer, or `signal` aborted with a TimeoutError), `CANCELLED`, the
   * {@link httpStatusError} of a 4xx/5xx, `TRANSIENT` network faults, or non-retryable
   * `TOOL_FAILED` for an oversized body or too many redirects. A retryable failure before any
   * connection was up (DNS, refused, unreachable, a timeout while connecting) carries
   * `details.requestSent: false`: the request certainly did not reach a server. Without it, it
   * may have.
   */
  request(request: GuardedHttpRequest): Promise<GuardedHttpResponse>;
}

export interface GuardedHttpClientOptions {
  guard: UrlGuard;
  /** Monotonic milliseconds, for `durationMs`. @default performance.now */
  now?: () => number;
  /** `User-Agent` sent unless the request sets one. @default 'agentry-executor' */
  userAgent?: string;
  /** Extra trusted CA certificates (PEM), e.g. a corporate CA. @default Node's bundle */
  ca?: string | readonly string[];
}

/** Response headers worth handing back to a plan: no cookies, no auth challenges. */
export const safeResponseHeaders: ReadonlySet<string> = new Set([
  'age',
  'cache-control',
  'content-disposition',
  'content-language',
  'content-length',
  'content-type',
  'date',
  'etag',
  'expires',
  'last-modified',
  'link',
  'location',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'request-id',
  'retry-after',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'x-request-id',
]);

/** Set by the client (or by Node from the connection); a caller's value is dropped. */
export const clientOwnedHeaders: readonly string[] = [
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'accept-encoding',
  'idempotency-key',
];

const crossOriginDropped = ['authorization', 'cookie', 'proxy-authorization'];

/** The HTTP client both http.request and webhook.notify use. */
export function createGuardedHttpClient(options: GuardedHttpClientOptions): GuardedHttpClient {
  const now = options.now ?? (() => performance.now());
  const userAgent = options.userAgent ?? 'agentry-executor';

  async function follow(request: GuardedHttpRequest, signal: AbortSignal, onConnected: () => void) {
    const maxRedirects = request.maxRedirects ?? 5;
    let url = request.url;
    let method: HttpMethod = request.method;
    let body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
    let headers = without(lowerCaseKeys(request.headers ?? {}), clientOwnedHeaders);
    for (let hop = 0; ; hop += 1) {
      const target = await options.guard.check(url, { signal });
      const hopHeaders: Record<string, string> = {
        'user-agent': userAgent,
        ...headers,
        'accept-encoding': 'identity', // bodies are returned as text; nothing here inflates gzip
        ...(body ? { 'content-length': String(body.length) } : {}),
        ...(method !== 'GET' && method !== 'HEAD' && request.idempotencyKey !== undefined
          ? { 'idempotency-key': request.idempotencyKey }
          : {}),
      };
      const response = await sendHttpRequest({
        target,
        method,
        headers: hopHeaders,
        ...(body ? { body } : {}),
        maxResponseBytes: request.maxResponseBytes,
        truncate: request.truncate ?? false,
        stopAtRedirect: true,
        signal,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        onConnected,
      });
      if (response.location === undefined) return { response, url: target.url };
      if (hop >= maxRedirects) {
        throw new AppError(
          'TOOL_FAILED',
          maxRedirects === 0 ? 'redirects are not followed' : `more than ${maxRedirects} redirects`,
          { retryable: false, details: { url: displayUrl(target.url), status: response.status } },
        );
      }
      const next = resolveLocation(response.location, target.url);
      if (next.origin !== target.url.origin) headers = without(headers, crossOriginDropped);
      const status = response.status;
      if (
        (status === 303 && method !== 'HEAD') ||
        ((status === 301 || status === 302) && method === 'POST')
      ) {
        method = 'GET';
        body = undefined;
        headers = without(headers, ['content-type']);
      }
      url = next.toString();
    }
  }

  return {
    async request(request) {
      const started = now();
      const timer = new AbortController();
      const timeout = setTimeout(
        () =>
          timer.abort(new DOMException(`request exceeded ${request.timeoutMs} ms`, 'TimeoutError')),
        request.timeoutMs,
      );
      const signal = AbortSignal.any([request.signal, timer.signal]);
      let connected = false;
      try {
        const { response, url } = await follow(request, signal, () => {
          connected = true;
        });
        const headers = pickHeaders(response.headers);
        const shown = displayUrl(url);
        const failure = httpStatusError(response.status, headers, shown);
        if (failure) throw failure;
        return {
          status: response.status,
          headers,
          body: response.body,
          truncated: response.truncated,
          durationMs: Math.round(now() - started),
          url: shown,
        };
      } catch (e) {
        const error = toError(e);
        const failure = signal.aborted
          ? abortError(signal)
          : isAppError(error)
            ? error
            : new AppError('TRANSIENT', `request failed: ${error.message}`, { cause: error });
        if (connected || !failure.retryable) throw failure;
        throw amendAppError(failure, { details: { requestSent: false } });
      } finally {
        clearTimeout(timeout);
      }
    },
  };
}

function resolveLocation(location: string, base: URL): URL {
  try {
    return new URL(location, base);
  } catch (e) {
    throw new AppError('TOOL_FAILED', 'redirect with an invalid Location', {
      cause: toError(e),
      retryable: false,
      details: { url: displayUrl(base) },
    });
  }
}

function pickHeaders(raw: IncomingHttpHeaders): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || !safeResponseHeaders.has(name)) continue;
    picked[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return picked;
}

function lowerCaseKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function without(
  headers: Record<string, string>,
  names: readonly string[],
): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !names.includes(k)));
}
