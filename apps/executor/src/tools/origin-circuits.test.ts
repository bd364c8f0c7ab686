import type { CircuitState } from '@agentry/resilience';
import { AppError } from '@agentry/schema';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpRequestTool } from './http-request-tool';
import { createOriginCircuits, type OriginCircuitOptions } from './origin-circuits';
import { startTestHttpServer, type TestHttpServer } from './testing/start-test-http-server';
import { testToolContext } from './testing/test-tool-context';
import { createToolRegistry } from './tool-registry';
import { createUrlGuard } from './url-guard';

const servers: TestHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: Parameters<typeof startTestHttpServer>[0]): Promise<TestHttpServer> {
  const server = await startTestHttpServer(handler);
  servers.push(server);
  return server;
}

/** A server answering `status()` to every request. */
function answering(status: () => number) {
  return serve((_req, res) => res.writeHead(status()).end());
}

/** http.request over circuits that open after 2 calls, half of them failed; a clock we move. */
function setup(settings: OriginCircuitOptions = {}) {
  const clock = { ms: 1_000_000, now: () => clock.ms };
  const transitions: Array<[string, CircuitState, CircuitState]> = [];
  const circuits = createOriginCircuits({
    threshold: 0.5,
    minCalls: 2,
    windowMs: 60_000,
    halfOpenAfterMs: 10_000,
    clock,
    onStateChange: (origin, from, to) => transitions.push([origin, from, to]),
    ...settings,
  });
  const guard = createUrlGuard({ allowHosts: ['127.0.0.1'] });
  const registry = createToolRegistry([createHttpRequestTool({ guard, circuits })]);
  const call = (input: Record<string, unknown>) =>
    registry.invoke('http.request', input, testToolContext());
  return { clock, transitions, circuits, call };
}

describe('per-origin circuit breaker of http.request', () => {
  it('opens after enough failures, rejects without connecting, and a probe closes it', async () => {
    let status = 503;
    const server = await answering(() => status);
    const other = await answering(() => 200);
    const { clock, transitions, circuits, call } = setup();

    for (let i = 0; i < 2; i++)
      await expect(call({ url: server.origin })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(circuits.state(server.origin)).toBe('OPEN');

    const connections = server.connections;
    clock.ms += 4_000;
    await expect(call({ url: `${server.origin}/x`, method: 'POST' })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
      details: { circuit: 'open', origin: server.origin, retryAfterMs: 6_000 },
    });
    expect(server.connections).toBe(connections);
    expect(server.requests).toHaveLength(2);
    // Another origin has its own circuit.
    await expect(call({ url: other.origin })).resolves.toMatchObject({ status: 200 });

    status = 200;
    clock.ms += 6_000;
    await expect(call({ url: server.origin })).resolves.toMatchObject({ status: 200 });
    expect(server.requests).toHaveLength(3);
    expect(circuits.state(server.origin)).toBe('CLOSED');
    expect(transitions).toEqual([
      [server.origin, 'CLOSED', 'OPEN'],
      [server.origin, 'OPEN', 'HALF_OPEN'],
      [server.origin, 'HALF_OPEN', 'CLOSED'],
    ]);
  });

  it('re-opens when the probe fails', async () => {
    const server = await answering(() => 502);
    const { clock, circuits, call } = setup();
    for (let i = 0; i < 2; i++) await call({ url: server.origin }).catch(() => undefined);
    clock.ms += 10_000;
    await expect(call({ url: server.origin })).rejects.toMatchObject({ details: { status: 502 } });
    expect(circuits.state(server.origin)).toBe('OPEN');
    await expect(call({ url: server.origin })).rejects.toMatchObject({
      details: { circuit: 'open', retryAfterMs: 10_000 },
    });
    expect(server.requests).toHaveLength(3);
  });

  it('counts timeouts and refused connections, not 4xx answers', async () => {
    const notFound = await answering(() => 404);
    const limited = await answering(() => 429);
    const { circuits, call } = setup();
    for (let i = 0; i < 4; i++) {
      await call({ url: notFound.origin }).catch(() => undefined);
      await call({ url: limited.origin }).catch(() => undefined);
    }
    expect(circuits.state(notFound.origin)).toBe('CLOSED');
    expect(circuits.state(limited.origin)).toBe('CLOSED');

    const hanging = await serve(() => undefined);
    for (let i = 0; i < 2; i++)
      await expect(call({ url: hanging.origin, timeoutMs: 50 })).rejects.toMatchObject({
        code: 'TIMEOUT',
      });
    expect(circuits.state(hanging.origin)).toBe('OPEN');

    const gone = await serve(() => undefined);
    await gone.close();
    for (let i = 0; i < 2; i++) await call({ url: gone.origin }).catch(() => undefined);
    expect(circuits.state(gone.origin)).toBe('OPEN');
  });
});

describe('createOriginCircuits', () => {
  const fail = () => Promise.reject(new AppError('TRANSIENT', 'down'));

  it('forgets the least recently used origin beyond maxOrigins', async () => {
    const circuits = createOriginCircuits({ maxOrigins: 2, minCalls: 1 });
    const signal = new AbortController().signal;
    await circuits.execute('http://a.test/', fail, signal).catch(() => undefined);
    await circuits.execute('http://b.test/', async () => 'ok', signal);
    await circuits.execute('http://a.test/x', async () => 'ok', signal).catch(() => undefined);
    await circuits.execute('http://c.test/', async () => 'ok', signal);
    expect(circuits.state('http://a.test/')).toBe('OPEN');
    expect(circuits.state('http://b.test/')).toBeUndefined();
    expect(circuits.state('http://c.test/')).toBe('CLOSED');
  });

  it('never counts a call its caller aborted', async () => {
    const circuits = createOriginCircuits({ minCalls: 1 });
    const controller = new AbortController();
    const pending = circuits.execute(
      'http://a.test/',
      (signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(new AppError('TIMEOUT', 'late'))),
        ),
      controller.signal,
    );
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(circuits.state('http://a.test/')).toBe('CLOSED');
  });

  it('refuses settings out of range at once', () => {
    expect(() => createOriginCircuits({ threshold: 2 })).toThrow(RangeError);
    expect(() => createOriginCircuits({ halfOpenAfterMs: -1 })).toThrow(RangeError);
    expect(() => createOriginCircuits({ maxOrigins: 0 })).toThrow(RangeError);
  });
});
