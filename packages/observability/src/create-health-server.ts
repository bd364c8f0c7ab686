import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { redactUrl } from './redact-url';
import { runChecks, type ReadinessCheck } from './run-checks';

export type { ReadinessCheck } from './run-checks';

/** Options of {@link createHealthServer}. */
export interface HealthServerOptions {
  /** Port to listen on; `0` picks a free one (see the result of `start()`). */
  port: number;
  /** @default '0.0.0.0' */
  host?: string;
  /** Served on `GET /metrics`. */
  registry: Registry;
  /** Readiness checks by name (`postgres`, `redis`, …), all run on every `GET /readyz`. */
  checks: Record<string, ReadinessCheck>;
  /** Logs start, close, readiness changes and unexpected errors. */
  log?: Logger;
  /** Time each check gets before it counts as failed. @default 2000 */
  checkTimeoutMs?: number;
}

/** The server returned by {@link createHealthServer}. */
export interface HealthServer {
  /** Starts listening (once; a second call returns the same promise) and resolves with the bound port. Rejects if the port is taken or after `close()`. */
  start(): Promise<{ port: number }>;
  /** Stops listening and drops open connections. Safe to call twice, or before `start()`. */
  close(): Promise<void>;
  /** From now on `/readyz` answers 503 `draining` without running checks. Call it first on SIGTERM. */
  setDraining(): void;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The probe and scrape endpoint of a worker, on plain `node:http`:
 *
 * - `GET /metrics` — `registry.metrics()` in the Prometheus text format.
 * - `GET /healthz` — liveness: 200 `{ status: 'ok' }` while the event loop answers.
 * - `GET /readyz` — readiness: runs every check under `checkTimeoutMs`; 200
 *   `{ status: 'ready', checks: { name: 'ok' } }`, else 503 `{ status: 'not_ready', checks: {
 *   name: 'error message' } }` (messages scrubbed of URL credentials); 503 `{ status: 'draining' }`
 *   once {@link HealthServer.setDraining} was called.
 * - Anything else: 404 JSON; a known path with a method other than GET or HEAD: 405 JSON.
 */
export function createHealthServer(options: HealthServerOptions): HealthServer {
  const { registry, checks, log } = options;
  const host = options.host ?? '0.0.0.0';
  const checkTimeoutMs = options.checkTimeoutMs ?? 2_000;
  let draining = false;
  let wasReady: boolean | undefined;
  let starting: Promise<{ port: number }> | undefined;
  let closing: Promise<void> | undefined;

  const routes: Record<string, () => Promise<[number, string, string]>> = {
    '/metrics': async () => [200, registry.contentType, await registry.metrics()],
    '/healthz': async () => json(200, { status: 'ok' }),
    '/readyz': async () => {
      if (draining) return json(503, { status: 'draining' });
      const results = await runChecks(checks, checkTimeoutMs);
      const ready = Object.values(results).every((r) => r === 'ok');
      if (ready !== wasReady) {
        if (ready) log?.info({ checks: results }, 'ready');
        else log?.warn({ checks: results }, 'not ready');
        wasReady = ready;
      }
      return json(ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', checks: results });
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    let reply: [number, string, string];
    if (route === undefined) reply = json(404, { error: 'not_found' });
    else if (req.method !== 'GET' && req.method !== 'HEAD')
      reply = json(405, { error: 'method_not_allowed' });
    else {
      try {
        reply = await route();
      } catch (caught) {
        const err = caught instanceof Error ? caught : new Error(String(caught));
        log?.error(
          { err: { message: redactUrl(err.message) }, path },
          'health server request failed',
        );
        reply = json(500, { error: 'internal' });
      }
    }
    const [status, contentType, body] = reply;
    res.writeHead(status, {
      'content-type': contentType,
      'cache-control': 'no-store',
      ...(status === 405 ? { allow: 'GET, HEAD' } : {}),
    });
    res.end(body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((caught: unknown) => {
      log?.error(
        { err: caught instanceof Error ? caught : new Error(String(caught)) },
        'health server response failed',
      );
      res.destroy();
    });
  });
  // Probes and scrapes are tiny; do not let a slow client hold a socket open.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;

  const listen = (): Promise<{ port: number }> =>
    new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen(options.port, host, () => {
        server.off('error', onError);
        const { port } = server.address() as AddressInfo;
        log?.info({ host, port }, 'health server listening');
        resolve({ port });
      });
    });

  const close = (): Promise<void> => {
    closing ??= (async () => {
      await starting?.catch(() => undefined);
      if (!server.listening) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Prometheus and kubelet keep connections alive; without this close() waits for them.
        server.closeAllConnections();
      });
      log?.info('health server closed');
    })();
    return closing;
  };

  return {
    start: () => {
      if (closing !== undefined) return Promise.reject(new Error('health server is closed'));
      starting ??= listen();
      return starting;
    },
    close,
    setDraining: () => {
      if (!draining) log?.info('draining: readiness now reports 503');
      draining = true;
    },
    [Symbol.asyncDispose]: close,
  };
}

function json(status: number, body: unknown): [number, string, string] {
  return [status, 'application/json; charset=utf-8', JSON.stringify(body)];
}
