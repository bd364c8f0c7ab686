import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { builtinTools, createExecutor, type ExecutorApp } from '../src';
import {
  startTestHttpServer,
  type TestHttpServer,
} from '../src/tools/testing/start-test-http-server';
import { executorConfig, openTestFleet, runReaches, startRun, type TestFleet } from './support';

let fleet: TestFleet;
let executor: ExecutorApp;
beforeAll(async () => {
  fleet = await openTestFleet('exec-http');
  executor = await createExecutor(executorConfig(fleet), {
    services: fleet.services,
    health: false,
    tools: builtinTools({ http: { allowHosts: ['127.0.0.1'] } }),
  });
  await executor.start();
});
afterAll(async () => {
  await executor?.close({ deadlineMs: 2_000 });
  await fleet?.close();
});

const servers: TestHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function serve(handler: Parameters<typeof startTestHttpServer>[0]): Promise<TestHttpServer> {
  const server = await startTestHttpServer(handler);
  servers.push(server);
  return server;
}

describe('executor: http.request retries only what is safe to repeat', () => {
  it('does not repeat a POST the server received but did not answer in time', async () => {
    const server = await serve(() => undefined);
    const { runId } = await startRun(fleet, [
      {
        id: 'post',
        tool: 'http.request',
        input: { url: `${server.origin}/orders`, method: 'POST', body: { n: 1 }, timeoutMs: 300 },
        maxAttempts: 3,
      },
    ]);
    const detail = await runReaches(fleet, runId, 'failed', 10_000);
    const [post] = detail.steps;
    expect(post?.attemptHistory.map((a) => [a.attempt, a.outcome, a.error?.code])).toEqual([
      [1, 'failed', 'TIMEOUT'],
    ]);
    expect(post?.attemptHistory[0]?.error).toMatchObject({
      retryable: false,
      details: { retrySafe: false },
    });
    expect(server.requests).toHaveLength(1);
  });

  it('retries a GET 503, and a POST 503 marked idempotent', async () => {
    const answered = new Map<string, number>();
    const server = await serve((req, res) => {
      const n = (answered.get(req.url ?? '') ?? 0) + 1;
      answered.set(req.url ?? '', n);
      res.writeHead(n === 1 ? 503 : 200).end('ok');
    });
    const { runId } = await startRun(fleet, [
      { id: 'get', tool: 'http.request', input: { url: `${server.origin}/get` } },
      {
        id: 'post',
        tool: 'http.request',
        input: { url: `${server.origin}/post`, method: 'POST', body: 'x', idempotent: true },
      },
    ]);
    const detail = await runReaches(fleet, runId, 'succeeded', 10_000);
    for (const step of detail.steps) {
      expect(step.attemptHistory.map((a) => [a.attempt, a.outcome, a.error?.code])).toEqual([
        [1, 'failed', 'UNAVAILABLE'],
        [2, 'succeeded', undefined],
      ]);
    }
    expect(Object.fromEntries(answered)).toEqual({ '/get': 2, '/post': 2 });
  });

  it('retries a POST whose connection was refused', async () => {
    const gone = await serve(() => undefined);
    await gone.close();
    const { runId } = await startRun(fleet, [
      {
        id: 'post',
        tool: 'http.request',
        input: { url: gone.origin, method: 'POST', body: 'x' },
        maxAttempts: 2,
      },
    ]);
    const detail = await runReaches(fleet, runId, 'failed', 10_000);
    expect(detail.steps[0]?.attemptHistory.map((a) => [a.attempt, a.error?.code])).toEqual([
      [1, 'TRANSIENT'],
      [2, 'TRANSIENT'],
    ]);
  });
});
