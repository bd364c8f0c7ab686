import type { AppError } from '@agentry/schema';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpRequestTool } from './http-request-tool';
import { startTestHttpServer, type TestHttpServer } from './testing/start-test-http-server';
import { testToolContext } from './testing/test-tool-context';
import { createToolRegistry } from './tool-registry';
import { createUrlGuard, type LookupAll } from './url-guard';

const servers: TestHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: Parameters<typeof startTestHttpServer>[0]): Promise<TestHttpServer> {
  const server = await startTestHttpServer(handler);
  servers.push(server);
  return server;
}

/** Calls http.request and resolves with the AppError it must reject with. */
function failureOf(lookup?: LookupAll) {
  const guard = createUrlGuard({ allowHosts: ['127.0.0.1', '*.test'], ...(lookup && { lookup }) });
  const registry = createToolRegistry([createHttpRequestTool({ guard })]);
  return (input: Record<string, unknown>) =>
    registry.invoke('http.request', input, testToolContext()).then(
      () => expect.fail('expected a rejection'),
      (e: unknown) => e as AppError,
    );
}

const hang = () => undefined;

describe('http.request: retry safety by method', () => {
  it('does not retry a POST that timed out after the server received it', async () => {
    const server = await serve(hang);
    const error = await failureOf()({
      url: server.origin,
      method: 'POST',
      body: { n: 1 },
      timeoutMs: 200,
    });
    expect(error).toMatchObject({
      code: 'TIMEOUT',
      retryable: false,
      details: { retrySafe: false },
    });
    expect(error.message).toMatch(/not retried/);
    expect(server.requests).toHaveLength(1);
  });

  it('retries it like a PUT when the remote honours Idempotency-Key (idempotent: true)', async () => {
    const server = await serve(hang);
    const error = await failureOf()({
      url: server.origin,
      method: 'POST',
      body: { n: 1 },
      timeoutMs: 200,
      idempotent: true,
    });
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(error.details?.['retrySafe']).toBeUndefined();
  });

  it.each(['GET', 'HEAD', 'PUT', 'DELETE'])('keeps a %s 503 retryable', async (method) => {
    const server = await serve((_req, res) => res.writeHead(503).end());
    expect(await failureOf()({ url: server.origin, method })).toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
    });
  });

  it.each(['POST', 'PATCH'])(
    'does not retry a %s answered 503 or cut mid-response',
    async (method) => {
      const down = await serve((_req, res) => res.writeHead(503).end());
      expect(await failureOf()({ url: down.origin, method, body: 'x' })).toMatchObject({
        code: 'UNAVAILABLE',
        retryable: false,
        details: { status: 503, retrySafe: false },
      });
      const cut = await serve((_req, res) => {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        setTimeout(() => res.destroy(), 20);
      });
      expect(await failureOf()({ url: cut.origin, method, body: 'x' })).toMatchObject({
        code: 'TRANSIENT',
        retryable: false,
        details: { retrySafe: false },
      });
    },
  );

  it('keeps a POST retryable when it certainly was not processed: 429, refused, DNS hanging', async () => {
    const limited = await serve((_req, res) => res.writeHead(429, { 'retry-after': '2' }).end());
    expect(await failureOf()({ url: limited.origin, method: 'POST', body: 'x' })).toMatchObject({
      code: 'RATE_LIMITED',
      retryable: true,
      details: { retryAfterMs: 2_000 },
    });

    const gone = await serve(hang);
    const refusedUrl = gone.origin;
    await gone.close();
    expect(await failureOf()({ url: refusedUrl, method: 'POST', body: 'x' })).toMatchObject({
      code: 'TRANSIENT',
      retryable: true,
      details: { requestSent: false },
    });

    // A timeout before any connection: the request never left.
    const neverAnswers: LookupAll = () => new Promise(() => undefined);
    expect(
      await failureOf(neverAnswers)({ url: 'http://slow.test/', method: 'POST', timeoutMs: 100 }),
    ).toMatchObject({ code: 'TIMEOUT', retryable: true, details: { requestSent: false } });
  });

  it('keeps a POST retryable when its DNS lookup fails transiently', async () => {
    const failing: LookupAll = () =>
      Promise.reject(Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' }));
    expect(
      await failureOf(failing)({ url: 'http://flaky-dns.test/', method: 'PATCH', body: 'x' }),
    ).toMatchObject({ code: 'TRANSIENT', retryable: true, details: { requestSent: false } });
  });
});
