import { afterEach, describe, expect, it } from 'vitest';
import {
  createHealthServer,
  type HealthServer,
  type HealthServerOptions,
} from './create-health-server';
import { createRegistry } from './create-registry';
import { DeadLetterMetrics } from './dead-letter-metrics';

const servers: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(options: Partial<HealthServerOptions> = {}) {
  const server = createHealthServer({
    port: 0,
    host: '127.0.0.1',
    registry: createRegistry({ component: 'test' }),
    checks: {},
    ...options,
  });
  servers.push(server);
  const { port } = await server.start();
  const get = async (path: string, init?: RequestInit) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      headers: res.headers,
      body: await res.text(),
    };
  };
  return { server, port, get };
}

describe('createHealthServer', () => {
  it('answers /healthz with 200 ok', async () => {
    const { port, get } = await serve();
    expect(port).toBeGreaterThan(0);
    const res = await get('/healthz');
    expect(res.status).toBe(200);
    expect(res.type).toContain('application/json');
    expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
  });

  it('serves the registry on /metrics in the Prometheus text format', async () => {
    const registry = createRegistry({ component: 'test' });
    new DeadLetterMetrics(registry).inc('agentry.step', 'TIMEOUT');
    const { get } = await serve({ registry });
    const res = await get('/metrics?debug=1');
    expect(res.status).toBe(200);
    expect(res.type).toBe(registry.contentType);
    expect(res.body).toContain(
      'agentry_queue_dead_letters_total{queue="agentry.step",code="TIMEOUT",component="test"} 1',
    );
  });

  it('is ready when every check passes, sync or async', async () => {
    const { get } = await serve({ checks: { postgres: async () => {}, redis: () => {} } });
    const res = await get('/readyz');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      status: 'ready',
      checks: { postgres: 'ok', redis: 'ok' },
    });
  });

  it('is not ready when a check throws, without echoing credentials', async () => {
    let redisUp = true;
    const { get } = await serve({
      checks: {
        postgres: () => {
          // secretlint-disable-next-line -- a deliberately fake credential, to test redaction
          throw new Error('connect ECONNREFUSED postgres://app:S3CRET@db:5432/agentry');
        },
        redis: async () => {
          if (!redisUp) throw new Error('redis down');
        },
      },
    });
    let res = await get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body).not.toContain('S3CRET');
    expect(JSON.parse(res.body)).toEqual({
      status: 'not_ready',
      checks: { postgres: 'connect ECONNREFUSED postgres://db:5432/agentry', redis: 'ok' },
    });
    redisUp = false;
    res = await get('/readyz');
    expect(JSON.parse(res.body).checks.redis).toBe('redis down');
  });

  it('is ready, then not ready when a check hangs past the timeout (and its signal aborts)', async () => {
    let hang = false;
    let aborted: AbortSignal | undefined;
    const { get } = await serve({
      checkTimeoutMs: 50,
      checks: {
        redis: (signal) => {
          if (!hang) return;
          aborted = signal;
          return new Promise<void>(() => {});
        },
      },
    });
    expect((await get('/readyz')).status).toBe(200);
    hang = true;
    const started = Date.now();
    const res = await get('/readyz');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({
      status: 'not_ready',
      checks: { redis: 'check timed out after 50 ms' },
    });
    expect(aborted?.aborted).toBe(true);
  });

  it('reports draining after setDraining, without running the checks', async () => {
    let runs = 0;
    const { server, get } = await serve({ checks: { redis: () => void runs++ } });
    expect((await get('/readyz')).status).toBe(200);
    server.setDraining();
    const res = await get('/readyz');
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({ status: 'draining' });
    expect(runs).toBe(1);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    const { get } = await serve();
    const missing = await get('/nope');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ error: 'not_found' });
    const post = await get('/metrics', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(JSON.parse(post.body)).toEqual({ error: 'method_not_allowed' });
    expect((await get('/healthz', { method: 'HEAD' })).status).toBe(200);
  });

  it('closes twice, with a keep-alive connection open, and refuses to start again', async () => {
    const { server, port, get } = await serve();
    await get('/healthz'); // fetch keeps the connection alive
    await server.close();
    await server.close();
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    await expect(server.start()).rejects.toThrow('closed');
  });

  it('closes before start, and supports await using', async () => {
    const never = createHealthServer({ port: 0, registry: createRegistry(), checks: {} });
    await never.close();
    let port = 0;
    {
      await using server = createHealthServer({
        port: 0,
        host: '127.0.0.1',
        registry: createRegistry(),
        checks: {},
      });
      ({ port } = await server.start());
    }
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('rejects start when the port is taken', async () => {
    const { port } = await serve();
    const clash = createHealthServer({
      port,
      host: '127.0.0.1',
      registry: createRegistry(),
      checks: {},
    });
    await expect(clash.start()).rejects.toThrow(/EADDRINUSE/);
    await clash.close();
  });
});
