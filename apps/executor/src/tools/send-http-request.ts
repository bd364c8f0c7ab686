import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { AppError, toError } from '@agentry/schema';
import { abortError } from './abort-error';
import { displayUrl } from './display-url';
import { hostnameOf } from './host-allowlist';
import type { VettedUrl } from './url-guard';

export interface HopRequest {
  target: VettedUrl;
  method: string;
  /** Lower-case names; `host` is set here from the URL. */
  headers: Readonly<Record<string, string>>;
  body?: Buffer;
  maxResponseBytes: number;
  /** Cut the body at the cap instead of refusing the response. */
  truncate: boolean;
  /** Return a 3xx with a Location at once, without reading its body. */
  stopAtRedirect: boolean;
  signal: AbortSignal;
  /** Extra trusted CA certificates (PEM) for https; Node's bundle otherwise. */
  ca?: string | readonly string[];
  /**
   * Called once the connection is up (TLS handshake done for https): from then on the request
   * may reach the server. A failure before it means the request was certainly not sent.
   */
  onConnected?: () => void;
}

export interface HopResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  truncated: boolean;
  /** Set when `stopAtRedirect` and the answer was a redirect. */
  location?: string;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/** True for the statuses that are followed as redirects. */
export function isRedirectStatus(status: number): boolean {
  return redirectStatuses.has(status);
}

/**
 * Send one HTTP request to the vetted address — never to what DNS says now — with the URL's
 * host as `Host` header and TLS server name. The body is counted while it streams: past
 * `maxResponseBytes` the connection is destroyed and the call either rejects with a
 * non-retryable `TOOL_FAILED` or (with `truncate`) resolves with what fit. Rejects with an
 * AppError only: `TRANSIENT` for network faults, `TOOL_FAILED` (not retried) for TLS
 * certificate faults, `TIMEOUT` / `CANCELLED` when `signal` aborts. Status codes are not judged.
 */
export function sendHttpRequest(request: HopRequest): Promise<HopResponse> {
  const { target, signal, maxResponseBytes: cap } = request;
  const { url } = target;
  return new Promise<HopResponse>((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError(signal));
      return;
    }
    const secure = url.protocol === 'https:';
    const hostname = hostnameOf(url);
    const options: https.RequestOptions = {
      // An IP address, so Node performs no DNS lookup of its own.
      host: target.address,
      family: target.family,
      port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: request.method,
      headers: { ...request.headers, host: url.host },
      agent: false,
      // TLS verifies the certificate against `servername`, i.e. the URL's name, not the IP.
      ...(secure && isIP(hostname) === 0 ? { servername: hostname } : {}),
      ...(secure && request.ca !== undefined ? { ca: [request.ca].flat() } : {}),
    };
    const req = (secure ? https : http).request(options);
    const { onConnected } = request;
    if (onConnected) {
      // `agent: false`: every request gets a fresh socket, still connecting when handed over.
      req.once('socket', (socket) =>
        socket.once(secure ? 'secureConnect' : 'connect', onConnected),
      );
    }
    let settled = false;
    const settle = (action: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      action();
    };
    const fail = (error: AppError): void =>
      settle(() => {
        req.destroy();
        reject(error);
      });
    const onAbort = (): void => fail(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e: unknown) => fail(networkError(toError(e), url)));

    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (request.stopAtRedirect && isRedirectStatus(status) && location !== undefined) {
        settle(() => {
          req.destroy();
          resolve({ status, headers: res.headers, body: '', truncated: false, location });
        });
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (
        request.method !== 'HEAD' &&
        !request.truncate &&
        Number.isFinite(declared) &&
        declared > cap
      ) {
        fail(tooLarge(cap, url));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (truncated: boolean): void =>
        settle(() => {
          if (truncated) req.destroy();
          const body = Buffer.concat(chunks, size).toString('utf8');
          resolve({ status, headers: res.headers, body, truncated });
        });
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        if (size + chunk.length <= cap) {
          chunks.push(chunk);
          size += chunk.length;
          return;
        }
        if (!request.truncate) {
          fail(tooLarge(cap, url));
          return;
        }
        chunks.push(chunk.subarray(0, cap - size));
        size = cap;
        done(true);
      });
      res.on('end', () => done(false));
      res.on('error', (e: unknown) => fail(networkError(toError(e), url)));
      res.on('close', () =>
        fail(
          new AppError('TRANSIENT', `connection to ${displayUrl(url)} closed mid-response`, {
            details: { url: displayUrl(url) },
          }),
        ),
      );
    });
    req.end(request.body);
  });
}

function tooLarge(cap: number, url: URL): AppError {
  return new AppError('TOOL_FAILED', `response from ${displayUrl(url)} exceeds ${cap} bytes`, {
    retryable: false,
    details: { url: displayUrl(url), maxResponseBytes: cap },
  });
}

function networkError(error: Error, url: URL): AppError {
  const code = (error as NodeJS.ErrnoException).code;
  const details = { url: displayUrl(url), code };
  const message = `request to ${displayUrl(url)} failed: ${error.message}`;
  // A certificate that does not verify will not verify on the next attempt either.
  if (code !== undefined && /CERT|SELF_SIGNED|ERR_TLS|ERR_SSL/.test(code)) {
    return new AppError('TOOL_FAILED', message, { cause: error, details, retryable: false });
  }
  return new AppError('TRANSIENT', message, { cause: error, details });
}
