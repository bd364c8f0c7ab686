import { createHmac } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, type ExecutorApp } from '../src';
import { executorConfig, openTestFleet, runReaches, startRun, type TestFleet } from './support';

/** webhook.notify signs with a key from a mounted secret file, and follows its rotation. */
let fleet: TestFleet;
let executor: ExecutorApp;
let sink: Server;
let sinkUrl: string;
let keyFile: string;
const received: Array<{ body: string; signature: string | undefined }> = [];

beforeAll(async () => {
  sink = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const signature = req.headers['x-agentry-signature'];
      received.push({ body, signature: typeof signature === 'string' ? signature : undefined });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hook`;
  keyFile = join(await mkdtemp(join(tmpdir(), 'agentry-signing-')), 'webhook-key');
  await writeFile(keyFile, 'signing-canary-0001-not-a-secret\n');
  fleet = await openTestFleet('webhook-signing');
  executor = await createExecutor(
    executorConfig(fleet, {
      AGENTRY_HTTP_ALLOW_HOSTS: '127.0.0.1',
      AGENTRY_WEBHOOK_SIGNING_KEY_REF: `file://${keyFile}`,
    }),
    { services: fleet.services, health: false },
  );
  await executor.start();
});
afterAll(async () => {
  await executor?.close({ deadlineMs: 2_000 });
  await fleet?.close();
  await new Promise((resolve) => sink.close(resolve));
});

const hmac = (key: string, body: string) =>
  `sha256=${createHmac('sha256', key).update(body, 'utf8').digest('hex')}`;

async function notify(id: string) {
  const { runId } = await startRun(fleet, [
    { id, tool: 'webhook.notify', input: { url: sinkUrl, event: 'deployed', payload: { id } } },
  ]);
  await runReaches(fleet, runId, 'succeeded');
  const last = received.at(-1);
  if (!last) throw new Error('nothing received');
  return last;
}

describe('webhook signing key from the secret store', () => {
  it('signs the body with the key in the mounted file', async () => {
    const { body, signature } = await notify('first');
    expect(signature).toBe(hmac('signing-canary-0001-not-a-secret', body));
  });

  it('signs with the new key once the file is rotated and the cache reloads', async () => {
    await writeFile(keyFile, 'signing-canary-0002-not-a-secret\n');
    // The kubelet swapped the file; the store reloads after its TTL — here, at once.
    fleet.services.secrets.invalidate(`file://${keyFile}`, 'rotated');
    const { body, signature } = await notify('second');
    expect(signature).toBe(hmac('signing-canary-0002-not-a-secret', body));
    expect(JSON.stringify(fleet.logs)).not.toContain('signing-canary-000');
  });
});
