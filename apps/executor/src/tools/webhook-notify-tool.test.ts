import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createHmacSigner } from './hmac-signer';
import { startTestHttpServer, type TestHttpServer } from './testing/start-test-http-server';
import { testToolContext } from './testing/test-tool-context';
import { createToolRegistry } from './tool-registry';
import { createUrlGuard } from './url-guard';
import { createWebhookNotifyTool, type WebhookSigner } from './webhook-notify-tool';

const servers: TestHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: Parameters<typeof startTestHttpServer>[0]): Promise<TestHttpServer> {
  const server = await startTestHttpServer(handler);
  servers.push(server);
  return server;
}

const testKey = 'test-signing-key'; // a fixture, not a secret

function notify(options: { sign?: WebhookSigner; allowHosts?: string[] } = {}) {
  const tool = createWebhookNotifyTool({
    guard: createUrlGuard({ allowHosts: options.allowHosts ?? ['127.0.0.1'] }),
    clock: () => new Date('2025-01-02T03:04:05.000Z'),
    ...(options.sign ? { sign: options.sign } : {}),
  });
  const registry = createToolRegistry([tool]);
  return (input: Record<string, unknown>) =>
    registry.invoke(
      'webhook.notify',
      input,
      testToolContext({ runId: 'run-7', stepId: 'notify', idempotencyKey: 'run-7.notify' }),
    );
}

describe('webhook.notify', () => {
  it('POSTs the event as JSON with Idempotency-Key and a correct signature', async () => {
    const server = await serve((_req, res) => res.writeHead(202).end());
    const output = await notify({ sign: createHmacSigner(() => testKey) })({
      url: `${server.origin}/hook`,
      event: 'deploy.finished',
      payload: { build: 812, env: 'staging' },
    });
    expect(output).toEqual({ delivered: true, status: 202 });
    const seen = server.requests[0];
    expect(seen?.method).toBe('POST');
    expect(JSON.parse(seen?.body ?? '')).toEqual({
      event: 'deploy.finished',
      payload: { build: 812, env: 'staging' },
      runId: 'run-7',
      stepId: 'notify',
      sentAt: '2025-01-02T03:04:05.000Z',
    });
    const expected = createHmac('sha256', testKey)
      .update(seen?.body ?? '')
      .digest('hex');
    expect(seen?.headers).toMatchObject({
      'content-type': 'application/json',
      'idempotency-key': 'run-7.notify',
      'x-agentry-signature': `sha256=${expected}`,
    });
  });

  it('sends no signature header without a signer', async () => {
    const server = await serve((_req, res) => res.end('ok'));
    await notify()({ url: server.origin, event: 'e', payload: {} });
    expect(server.requests[0]?.headers['x-agentry-signature']).toBeUndefined();
  });

  it('retries a 5xx, not a 4xx, and does not follow redirects', async () => {
    const down = await serve((_req, res) => res.writeHead(500).end());
    await expect(notify()({ url: down.origin, event: 'e', payload: {} })).rejects.toMatchObject({
      code: 'TRANSIENT',
      retryable: true,
    });
    const gone = await serve((_req, res) => res.writeHead(410).end());
    await expect(notify()({ url: gone.origin, event: 'e', payload: {} })).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      retryable: false,
    });
    const moved = await serve((_req, res) => res.writeHead(302, { location: '/elsewhere' }).end());
    await expect(notify()({ url: moved.origin, event: 'e', payload: {} })).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      retryable: false,
    });
    expect(moved.requests).toHaveLength(1);
  });

  it('retries like a PUT by default (receivers dedupe by Idempotency-Key), not with idempotent: false', async () => {
    const down = await serve((_req, res) => res.writeHead(503).end());
    await expect(
      notify()({ url: down.origin, event: 'e', payload: {}, idempotent: false }),
    ).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      retryable: false,
      details: { status: 503, retrySafe: false },
    });
    const gone = await serve((_req, res) => res.end());
    await gone.close();
    await expect(
      notify()({ url: gone.origin, event: 'e', payload: {}, idempotent: false }),
    ).rejects.toMatchObject({
      code: 'TRANSIENT',
      retryable: true,
      details: { requestSent: false },
    });
    expect(down.requests[0]?.headers['idempotency-key']).toBe('run-7.notify');
  });

  it('refuses a webhook URL the guard forbids', async () => {
    const server = await serve((_req, res) => res.end());
    await expect(
      notify({ allowHosts: ['hooks.example.com'] })({
        url: server.origin,
        event: 'e',
        payload: {},
      }),
    ).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    await expect(
      notify({ allowHosts: [] })({ url: 'http://169.254.169.254/', event: 'e', payload: {} }),
    ).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    expect(server.connections).toBe(0);
  });

  it('reports a signer failure as retryable UNAVAILABLE', async () => {
    const server = await serve((_req, res) => res.end());
    const sign = () => Promise.reject(new Error('secrets manager down'));
    await expect(
      notify({ sign })({ url: server.origin, event: 'e', payload: {} }),
    ).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
    });
    expect(server.connections).toBe(0);
  });
});
