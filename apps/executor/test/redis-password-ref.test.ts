import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, type ExecutorApp } from '../src';
import {
  executorConfig,
  openTestFleet,
  runReaches,
  startRun,
  waitFor,
  type TestFleet,
} from './support';

/** A Redis that requires AUTH, its password given to the fleet as a mounted secret file. */
const password = 'redis-canary-0001-not-a-secret';
const rotated = 'redis-canary-0002-not-a-secret';
let passwordFile: string;
let redis: ChildProcess;
let port: number;
let fleet: TestFleet;
let executor: ExecutorApp;

beforeAll(async () => {
  port = await freePort();
  redis = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--requirepass',
      password,
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: 'ignore' },
  );
  await untilAuthenticates(port);
  const file = join(await mkdtemp(join(tmpdir(), 'agentry-redis-')), 'redis-password');
  passwordFile = file;
  await writeFile(file, `${password}\n`);
  fleet = await openTestFleet('redis-auth', {
    AGENTRY_REDIS_URL: `redis://127.0.0.1:${port}`,
    AGENTRY_REDIS_PASSWORD_REF: `file://${file}`,
  });
  executor = await createExecutor(executorConfig(fleet), {
    services: fleet.services,
    health: false,
  });
  await executor.start();
}, 30_000);
afterAll(async () => {
  await executor?.close({ deadlineMs: 2_000 });
  await fleet?.close();
  redis?.kill('SIGTERM');
});

describe('Redis password from the secret store', () => {
  it('producer and workers authenticate with it; the value stays out of the logs', async () => {
    const { runId } = await startRun(fleet, [
      { id: 'hello', tool: 'echo', input: { message: 'hi' } },
    ]);
    await runReaches(fleet, runId, 'succeeded');
    expect(JSON.stringify(fleet.logs)).not.toContain(password);
  });

  it('follows a rotation: refused on reconnect, it reloads the password and carries on', async () => {
    const admin = new Redis(port, '127.0.0.1', { password });
    try {
      // Rotate: Redis takes the new password, the mounted secret file follows, and every client
      // is cut off so it has to authenticate again (as after a failover or a restart).
      await admin.config('SET', 'requirepass', rotated);
      await writeFile(passwordFile, `${rotated}\n`);
      await admin.client('KILL', 'TYPE', 'normal');
    } finally {
      admin.disconnect();
    }
    // The fail-fast producer refuses while it reconnects; a producer retries its submission.
    let started: Awaited<ReturnType<typeof startRun>> | undefined;
    await waitFor(
      async () => {
        started ??= await startRun(fleet, [
          { id: 'again', tool: 'echo', input: { message: 'hi' } },
        ]).catch(() => undefined);
        return started !== undefined;
      },
      15_000,
      'a submission accepted again',
    );
    await runReaches(fleet, started?.runId ?? '', 'succeeded', 20_000);
    const logs = JSON.stringify(fleet.logs);
    expect(logs).toContain('redis password reloaded after a refusal');
    expect(logs).not.toContain(rotated);
  });

  it('without it the same Redis refuses commands (the test is not vacuous)', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
      socket.once('data', (data) => {
        resolve(data.toString('utf8'));
        socket.destroy();
      });
      socket.once('error', reject);
    });
    expect(answer).toMatch(/^-NOAUTH/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

async function untilAuthenticates(p: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const client = new Redis(p, '127.0.0.1', {
      password,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    client.on('error', () => undefined); // refused until the server is up
    try {
      await client.connect();
      await client.ping();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      client.disconnect();
    }
  }
  throw new Error(`redis-server on ${p} did not come up`);
}
