import type { AppError } from '@agentry/schema';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpRequestTool } from './http-request-tool';
import { fakeLookup } from './testing/fake-lookup';
import { startTestHttpServer, type TestHttpServer } from './testing/start-test-http-server';
import { testToolContext } from './testing/test-tool-context';
import { createToolRegistry } from './tool-registry';
import { createUrlGuard, type UrlGuardOptions } from './url-guard';

const servers: TestHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(...args: Parameters<typeof startTestHttpServer>): Promise<TestHttpServer> {
  const server = await startTestHttpServer(...args);
  servers.push(server);
  return server;
}

/** Loopback is reachable only because it is explicitly allowlisted; allowPrivate stays false. */
function httpTool(guard: UrlGuardOptions = { allowHosts: ['127.0.0.1', 'localhost'] }) {
  const tool = createHttpRequestTool({ guard: createUrlGuard(guard) });
  const registry = createToolRegistry([tool]);
  return (input: Record<string, unknown>, ctx = testToolContext()) =>
    registry.invoke('http.request', input, ctx);
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e as AppError,
  );
}

describe('http.request', () => {
  it('returns status, a safe header subset and the body; GET carries no Idempotency-Key', async () => {
    const server = await serve((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('set-cookie', 'session=secret');
      res.setHeader('x-request-id', 'abc');
      res.end('{"ok":true}');
    });
    const output = await httpTool()({ url: `${server.origin}/status?x=1` });
    expect(output).toMatchObject({
      status: 200,
      body: '{"ok":true}',
      truncated: false,
      url: `${server.origin}/status?x=1`,
      headers: { 'content-type': 'application/json', 'x-request-id': 'abc' },
    });
    expect((output as { headers: Record<string, string> }).headers['set-cookie']).toBeUndefined();
    expect(server.requests[0]).toMatchObject({ method: 'GET', url: '/status?x=1' });
    expect(server.requests[0]?.headers.host).toBe(`127.0.0.1:${server.port}`);
    expect(server.requests[0]?.headers['idempotency-key']).toBeUndefined();
  });

  it('sends a JSON body with Idempotency-Key on POST', async () => {
    const server = await serve((_req, res) => res.writeHead(201).end('created'));
    const ctx = testToolContext({ idempotencyKey: 'run-9.deploy' });
    const output = await httpTool()(
      {
        url: `${server.origin}/items`,
        method: 'POST',
        body: { name: 'x' },
        headers: { 'X-Trace': 't1' },
      },
      ctx,
    );
    expect(output).toMatchObject({ status: 201, body: 'created' });
    const seen = server.requests[0];
    expect(seen?.body).toBe('{"name":"x"}');
    expect(seen?.headers).toMatchObject({
      'content-type': 'application/json',
      'idempotency-key': 'run-9.deploy',
      'x-trace': 't1',
    });
  });

  it('connects to the vetted address while sending the original Host', async () => {
    const server = await serve((_req, res) => res.end('hi'));
    const lookup = fakeLookup({ 'api.test': ['127.0.0.1'] });
    const call = httpTool({ allowHosts: ['api.test'], lookup });
    await expect(call({ url: `http://api.test:${server.port}/` })).resolves.toMatchObject({
      status: 200,
    });
    expect(server.requests[0]?.headers.host).toBe(`api.test:${server.port}`);
    expect(lookup.calls).toEqual(['api.test']);
  });

  it('ends with TIMEOUT within the bound when the server never answers', async () => {
    const server = await serve(() => undefined);
    const started = Date.now();
    const error = await failure(httpTool()({ url: `${server.origin}/hang`, timeoutMs: 200 }));
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('maps the step signal: timeout reason → TIMEOUT, other abort → CANCELLED', async () => {
    const server = await serve(() => undefined);
    const timedOut = testToolContext({ signal: AbortSignal.timeout(100) });
    await expect(httpTool()({ url: server.origin }, timedOut)).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
    const controller = new AbortController();
    const pending = httpTool()(
      { url: server.origin },
      testToolContext({ signal: controller.signal }),
    );
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED', retryable: false });
  });

  it('refuses a body streaming past the cap and closes the connection', async () => {
    const chunk = Buffer.alloc(16 * 1024, 'a');
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write(chunk), 1);
      res.on('close', () => clearInterval(timer));
    });
    const closed = server.nextClose();
    const error = await failure(httpTool()({ url: server.origin, maxResponseBytes: 100_000 }));
    expect(error).toMatchObject({
      code: 'TOOL_FAILED',
      retryable: false,
      details: { maxResponseBytes: 100_000 },
    });
    await closed;
  });

  it('refuses a declared Content-Length over the cap before reading', async () => {
    const server = await serve((_req, res) =>
      res.writeHead(200, { 'content-length': '5000' }).end('x'.repeat(5000)),
    );
    await expect(httpTool()({ url: server.origin, maxResponseBytes: 1000 })).rejects.toMatchObject({
      code: 'TOOL_FAILED',
    });
  });

  it('cuts the body at the cap with truncate: true', async () => {
    const server = await serve((_req, res) => res.end('y'.repeat(5000)));
    const output = await httpTool()({ url: server.origin, maxResponseBytes: 1000, truncate: true });
    expect(output).toMatchObject({ truncated: true, body: 'y'.repeat(1000) });
  });

  it.each([
    [500, 'TRANSIENT'],
    [502, 'UNAVAILABLE'],
    [503, 'UNAVAILABLE'],
    [504, 'UNAVAILABLE'],
    [408, 'TRANSIENT'],
  ])('maps %i to a retryable %s', async (status, code) => {
    const server = await serve((_req, res) => res.writeHead(status).end('down'));
    await expect(httpTool()({ url: server.origin })).rejects.toMatchObject({
      code,
      retryable: true,
      details: { status },
    });
  });

  it('maps 429 to RATE_LIMITED and keeps Retry-After', async () => {
    const server = await serve((_req, res) => res.writeHead(429, { 'retry-after': '7' }).end());
    await expect(httpTool()({ url: server.origin })).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      retryable: true,
      details: { status: 429, retryAfter: '7', retryAfterMs: 7_000 },
    });
  });

  it.each([400, 401, 403, 404, 422])('maps %i to a fatal TOOL_FAILED', async (status) => {
    const server = await serve((_req, res) => res.writeHead(status).end('no'));
    await expect(httpTool()({ url: server.origin })).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      retryable: false,
      details: { status },
    });
  });

  it('maps a refused connection to TRANSIENT', async () => {
    const server = await serve(() => undefined);
    const url = server.origin;
    await server.close();
    await expect(httpTool()({ url })).rejects.toMatchObject({ code: 'TRANSIENT', retryable: true });
  });

  it('follows a redirect chain, re-vetting each hop', async () => {
    const lookup = fakeLookup({ localhost: ['127.0.0.1'] });
    const server = await serve((req, res) => {
      if (req.url === '/a') res.writeHead(301, { location: '/b' }).end();
      else if (req.url === '/b')
        res.writeHead(302, { location: `http://localhost:${port}/c` }).end();
      else if (req.url === '/c') res.writeHead(307, { location: 'd' }).end();
      else res.end(`done at ${req.url}`);
    });
    const port = server.port;
    const output = await httpTool({ allowHosts: ['127.0.0.1', 'localhost'], lookup })({
      url: `${server.origin}/a`,
    });
    expect(output).toMatchObject({
      status: 200,
      body: 'done at /d',
      url: `http://localhost:${port}/d`,
    });
    expect(server.requests.map((r) => r.url)).toEqual(['/a', '/b', '/c', '/d']);
    expect(lookup.calls).toEqual(['localhost', 'localhost']);
  });

  it('turns POST into GET on 303 and drops credentials across origins on 307', async () => {
    const other = await serve((_req, res) => res.end('other'));
    const server = await serve((req, res) => {
      if (req.url === '/see-other') res.writeHead(303, { location: '/result' }).end();
      else if (req.url === '/moved') res.writeHead(307, { location: `${other.origin}/in` }).end();
      else res.end('result');
    });
    const call = httpTool();
    await call({ url: `${server.origin}/see-other`, method: 'POST', body: 'x' });
    expect(server.requests.map((r) => `${r.method} ${r.url} ${r.body}`)).toEqual([
      'POST /see-other x',
      'GET /result ',
    ]);

    await call({
      url: `${server.origin}/moved`,
      method: 'PUT',
      body: 'y',
      headers: { authorization: 'Bearer t' },
    });
    expect(other.requests[0]).toMatchObject({ method: 'PUT', body: 'y' });
    expect(other.requests[0]?.headers.authorization).toBeUndefined();
    expect(other.requests[0]?.headers['idempotency-key']).toBe('run-1.step-1');
  });

  it('refuses more than 5 redirects', async () => {
    const server = await serve((req, res) =>
      res.writeHead(302, { location: `/r${req.url?.length ?? 0}` }).end(),
    );
    await expect(httpTool()({ url: `${server.origin}/` })).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      retryable: false,
    });
    expect(server.requests).toHaveLength(6);
  });

  describe('redirect to a forbidden address', () => {
    // The origin's own address is an exact allowlist entry; private addresses are not allowed,
    // and `*.test` names only pass the name check (a wildcard never lifts the address checks).
    it.each([
      ['the metadata address', () => 'http://169.254.169.254/latest/meta-data/'],
      ['an IPv4-mapped loopback', (port: number) => `http://[::ffff:127.0.0.1]:${port}/`],
      ['its hex form', (port: number) => `http://[::ffff:7f00:1]:${port}/`],
      ['a NAT64 loopback', (port: number) => `http://[64:ff9b::7f00:1]:${port}/`],
      ['a name resolving to loopback', (port: number) => `http://rebind.test:${port}/`],
      ['a name resolving to public and loopback', (port: number) => `http://mixed.test:${port}/`],
      ['a URL with credentials', (port: number) => `http://u:p@127.0.0.1:${port}/`],
      ['a non-http scheme', () => 'file:///etc/passwd'],
    ])('refuses %s without connecting', async (_name, target) => {
      const sentinel = await serve((_req, res) => res.end('reached'));
      const origin = await serve((_req, res) =>
        res.writeHead(302, { location: target(sentinel.port) }).end(),
      );
      const lookup = fakeLookup({
        'rebind.test': ['127.0.0.1'],
        'mixed.test': ['93.184.216.34', '127.0.0.1'],
      });
      const call = httpTool({ allowHosts: ['127.0.0.1', '*.test'], lookup });
      const error = await failure(call({ url: origin.origin }));
      expect(error).toMatchObject({ code: 'POLICY_DENIED', retryable: false });
      expect(origin.requests).toHaveLength(1);
      expect(sentinel.connections).toBe(0);
    });
  });

  it('rejects invalid input before any connection', async () => {
    const call = httpTool();
    await expect(call({ url: 'not a url' })).rejects.toMatchObject({
      code: 'VALIDATION',
      retryable: false,
    });
    await expect(
      call({ url: 'http://127.0.0.1:1/', method: 'GET', body: 'x' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION',
    });
    await expect(
      call({ url: 'http://127.0.0.1:1/', headers: { Host: 'evil' } }),
    ).rejects.toMatchObject({
      code: 'VALIDATION',
    });
    await expect(
      call({ url: 'http://127.0.0.1:1/', maxResponseBytes: 11 * 1024 * 1024 }),
    ).rejects.toMatchObject({
      code: 'VALIDATION',
    });
  });
});
