import { appRoutes } from '@bull-board/api/dist/routes.js';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestApi, redisUrl } from './support/test-api';

const viewerPassword = 'board-viewer-pass-41';
const operatorPassword = 'board-operator-pass-42';
const apiToken = 'board-api-token-43';
const basic = (user: string, password: string) => ({
  authorization: `Basic ${btoa(`${user}:${password}`)}`,
});
const viewer = basic('viewer', viewerPassword);
const operator = basic('operator', operatorPassword);
const board = '/admin/queues';

/** Put one failed job on `agentry.step` (attempts 1, a worker that throws); returns its id. */
async function failedJob(api: TestApi, jobId: string): Promise<string> {
  await api.rawQueue('agentry.step').add('drill', { n: 1 }, { jobId, attempts: 1 });
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker(
    'agentry.step',
    async () => {
      throw new Error('drill');
    },
    { connection, prefix: api.prefix },
  );
  try {
    await new Promise<void>((resolve) => worker.on('failed', () => resolve()));
  } finally {
    await worker.close();
    await connection.quit();
  }
  return jobId;
}

/** A concrete path of a Bull Board route pattern, on `agentry.step` and one of its jobs. */
const pathOf = (route: string, jobId: string) =>
  board +
  route
    .replace(':queueName', 'agentry.step')
    .replace(':jobId', jobId)
    .replace(':queueStatus', 'failed')
    .replace(':schedulerId', 'no-such-scheduler');

/** Every route of Bull Board, from its own route table: the page's routes, then the API's. */
function boardRoutes(jobId: string): { reads: string[]; writes: Array<[string, string]> } {
  const reads = [appRoutes.entryPoint.route].flat().map((r) => pathOf(r, jobId));
  const writes: Array<[string, string]> = [];
  for (const r of appRoutes.api) {
    for (const method of [r.method].flat()) {
      for (const route of [r.route].flat()) {
        if (method === 'get') reads.push(pathOf(route, jobId));
        else writes.push([method.toUpperCase(), pathOf(route, jobId)]);
      }
    }
  }
  return { reads, writes };
}

interface Audited {
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  details: Record<string, unknown>;
}

/** The board's audit events (written after the response, so callers poll). */
async function audited(api: TestApi): Promise<Audited[]> {
  const rows = await api.services.repos.audit.list({ limit: 500 });
  return rows.filter((r) => r.action.startsWith('board.')).reverse();
}

describe('Bull Board with a viewer and an operator', () => {
  let api: TestApi;
  let jobId: string;
  let asset: string;
  let routes: ReturnType<typeof boardRoutes>;
  beforeAll(async () => {
    api = await TestApi.start({
      AGENTRY_BOARD_VIEWER_PASSWORD: viewerPassword,
      AGENTRY_BOARD_OPERATOR_PASSWORD: operatorPassword,
      AGENTRY_API_TOKEN: apiToken,
    });
    jobId = await failedJob(api, 'drill-1');
    routes = boardRoutes(jobId);
    const page = await api.http('GET', board, undefined, viewer);
    // A static asset the page really loads (names carry content hashes, so read them from it;
    // they are relative to the page's <base href="/admin/queues/">).
    const script = /src="(static\/[^"]+\.js)"/.exec(page.text)?.[1];
    asset = script ? `${board}/${script}` : '';
  });
  afterAll(async () => {
    await api?.close();
  });

  const refusals: Array<[string, Record<string, string>]> = [
    ['no credentials', {}],
    ['a wrong viewer password', basic('viewer', 'board-viewer-pass-40')],
    ['a wrong operator password', basic('operator', 'board-operator-pass-40')],
    ["the operator's password for the viewer", basic('viewer', operatorPassword)],
    ["the viewer's password for the operator", basic('operator', viewerPassword)],
    ['an unknown user', basic('admin', operatorPassword)],
    ['no password', basic('operator', '')],
    ['garbage', { authorization: 'Basic !!!' }],
    ['a wrong bearer token', { authorization: 'Bearer board-api-token-44' }],
    ['a password as bearer token', { authorization: `Bearer ${operatorPassword}` }],
  ];

  it.each(refusals)('answers every board route with 401 given %s', async (_name, headers) => {
    expect(asset).toMatch(/\/static\/js\//);
    expect(routes.writes.length).toBeGreaterThan(20);
    const requests: Array<[string, string]> = [
      ...[
        ...routes.reads,
        `${board}/`,
        asset,
        `${board}/static/favicon-32x32.png`,
        `${board}/no/such/page`,
      ].map((path): [string, string] => ['GET', path]),
      ['HEAD', board],
      ['DELETE', `${board}/api/queues/agentry.step`],
      ...routes.writes,
    ];
    for (const [method, path] of requests) {
      const answer = await api.http(method, path, undefined, headers);
      expect(answer.status, `${method} ${path}`).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Basic realm="agentry"');
      expect(answer.text).not.toMatch(/agentry\.step|drill/);
    }
    const queue = api.rawQueue('agentry.step');
    expect(await queue.getJobState(jobId)).toBe('failed');
    expect(await queue.isPaused()).toBe(false);
    // Nobody was authenticated: nothing to audit.
    expect(await audited(api)).toEqual([]);
  });

  it('serves the viewer the page, its assets and every queue (the dead-letter queue too), read-only', async () => {
    const page = await api.http('GET', board, undefined, viewer);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const script = await api.http('GET', asset, undefined, viewer);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect((await api.http('HEAD', board, undefined, viewer)).status).toBe(200);

    type Queues = { queues: Array<{ name: string; readOnlyMode: boolean; allowRetries: boolean }> };
    const seen = await api.http<Queues>('GET', `${board}/api/queues`, undefined, viewer);
    expect(seen.status).toBe(200);
    expect(seen.body.queues.map((q) => q.name).sort()).toEqual([
      'agentry.dlq',
      'agentry.plan',
      'agentry.step',
    ]);
    // What the UI reads to hide retry, remove, promote, pause …
    expect(seen.body.queues.every((q) => q.readOnlyMode && !q.allowRetries)).toBe(true);
    const job = await api.http<{ job: { id: string } }>(
      'GET',
      `${board}/api/queues/agentry.step/${jobId}`,
      undefined,
      viewer,
    );
    expect(job.status).toBe(200);
    expect(job.body.job.id).toBe(jobId);

    // The operator is shown the same queues, writable.
    const acting = await api.http<Queues>('GET', `${board}/api/queues`, undefined, operator);
    expect(acting.body.queues.map((q) => q.name).sort()).toEqual(
      seen.body.queues.map((q) => q.name).sort(),
    );
    expect(acting.body.queues.every((q) => !q.readOnlyMode && q.allowRetries)).toBe(true);
  });

  it('answers the viewer (and the operator) 200 on every read route of Bull Board', async () => {
    for (const path of routes.reads) {
      const seen = await api.http('GET', path, undefined, viewer);
      const acting = await api.http('GET', path, undefined, operator);
      expect(seen.status, `GET ${path}`).toBe(200);
      expect(acting.status, `GET ${path}`).toBe(200);
    }
    expect((await api.http('GET', `${board}/no/such/page`, undefined, viewer)).status).toBe(404);
  });

  it('refuses the viewer every mutating route with 403, changes nothing, audits the attempt', async () => {
    const writes: Array<[string, string]> = [...routes.writes, ['DELETE', `${board}/api/queues/x`]];
    for (const [method, path] of writes) {
      const answer = await api.http<{ error: { code: string } }>(method, path, undefined, viewer);
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.body.error.code).toBe('POLICY_DENIED');
    }
    const queue = api.rawQueue('agentry.step');
    expect(await queue.getJobState(jobId)).toBe('failed');
    expect(await queue.isPaused()).toBe(false);
    await expect.poll(async () => (await audited(api)).length).toBe(routes.writes.length + 1);
    const retry = (await audited(api)).find(
      (a) => a.action === 'board.retry' && a.targetType === 'job',
    );
    expect(retry).toMatchObject({
      actor: 'board:viewer',
      targetId: `agentry.step/${jobId}`,
      details: { status: 403, role: 'viewer', method: 'PUT' },
    });
  });

  it('lets the operator retry, pause, resume and remove; each action is an audit event with its status', async () => {
    await sql`delete from audit_log where action like 'board.%'`.execute(api.services.database.db);
    const queue = api.rawQueue('agentry.step');
    const job = await failedJob(api, 'drill-2');
    const act = (path: string, headers = operator) => api.http('PUT', path, undefined, headers);

    expect((await act(`${board}/api/queues/agentry.step/${job}/retry`)).status).toBe(204);
    expect(await queue.getJobState(job)).toBe('waiting');
    // Retrying it again fails (it is waiting): a failed action is audited too.
    expect((await act(`${board}/api/queues/agentry.step/${job}/retry`)).status).toBe(400);
    expect((await act(`${board}/api/queues/agentry.step/pause`)).status).toBe(200);
    expect(await queue.isPaused()).toBe(true);
    expect((await act(`${board}/api/queues/agentry.step/resume`)).status).toBe(200);
    expect(await queue.isPaused()).toBe(false);
    expect((await act(`${board}/api/queues/agentry.step/${job}/clean`)).status).toBe(204);
    expect(await queue.getJob(job)).toBeUndefined();

    await expect.poll(async () => (await audited(api)).length).toBe(5);
    const events = await audited(api);
    expect(
      events.map((e) => [e.actor, e.action, e.targetType, e.targetId, e.details.status]),
    ).toEqual([
      ['board:operator', 'board.retry', 'job', `agentry.step/${job}`, 204],
      ['board:operator', 'board.retry', 'job', `agentry.step/${job}`, 400],
      ['board:operator', 'board.pause', 'queue', 'agentry.step', 200],
      ['board:operator', 'board.resume', 'queue', 'agentry.step', 200],
      ['board:operator', 'board.remove', 'job', `agentry.step/${job}`, 204],
    ]);
    expect(events[0]?.details).toMatchObject({
      role: 'operator',
      method: 'PUT',
      route: '/api/queues/:queueName/:jobId/retry',
    });
    expect(JSON.stringify(events)).not.toContain(operatorPassword);
  });

  it('accepts the API token as bearer for an operator (scripts), audited as board:api-token', async () => {
    const queue = api.rawQueue('agentry.step');
    const job = await failedJob(api, 'drill-3');
    const bearer = { authorization: `Bearer ${apiToken}` };
    expect((await api.http('GET', `${board}/api/queues`, undefined, bearer)).status).toBe(200);
    const retry = `${board}/api/queues/agentry.step/${job}/retry`;
    expect((await api.http('PUT', retry, undefined, bearer)).status).toBe(204);
    expect(await queue.getJobState(job)).toBe('waiting');
    await expect
      .poll(async () =>
        (await audited(api)).some(
          (e) => e.actor === 'board:api-token' && e.targetId === `agentry.step/${job}`,
        ),
      )
      .toBe(true);
  });

  it('still acts when the audit write fails (written after the response)', async () => {
    const db = api.services.database.db;
    const job = await failedJob(api, 'drill-4');
    await sql`alter table audit_log rename to audit_log_away`.execute(db);
    try {
      const retry = `${board}/api/queues/agentry.step/${job}/retry`;
      expect((await api.http('PUT', retry, undefined, operator)).status).toBe(204);
      expect(await api.rawQueue('agentry.step').getJobState(job)).toBe('waiting');
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await sql`alter table audit_log_away rename to audit_log`.execute(db);
    }
  });
});

describe('Bull Board with the deprecated AGENTRY_BOARD_PASSWORD (user admin)', () => {
  const admin = basic('admin', 'board-admin-pass-44');
  let readOnly: TestApi;
  let writable: TestApi;
  beforeAll(async () => {
    [readOnly, writable] = await Promise.all([
      TestApi.start({ AGENTRY_BOARD_PASSWORD: 'board-admin-pass-44' }),
      TestApi.start({
        AGENTRY_BOARD_PASSWORD: 'board-admin-pass-44',
        AGENTRY_BOARD_WRITABLE: 'true',
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([readOnly?.close(), writable?.close()]);
  });

  it('keeps admin a viewer unless AGENTRY_BOARD_WRITABLE=true makes it an operator', async () => {
    for (const [api, status] of [
      [readOnly, 403],
      [writable, 204],
    ] as const) {
      const job = await failedJob(api, 'drill-admin');
      expect((await api.http('GET', `${board}/api/queues`, undefined, admin)).status).toBe(200);
      const retry = `${board}/api/queues/agentry.step/${job}/retry`;
      expect((await api.http('PUT', retry)).status).toBe(401);
      expect((await api.http('PUT', retry, undefined, admin)).status).toBe(status);
      expect((await api.http('PUT', retry, undefined, operator)).status).toBe(401);
      await expect
        .poll(async () => (await audited(api)).map((e) => [e.actor, e.action, e.details.status]))
        .toEqual([['board:admin', 'board.retry', status]]);
    }
  });
});

describe('Bull Board passwords as secret references', () => {
  it('resolves them at start through the secret store', async () => {
    process.env.T_BOARD_OPERATOR_PASSWORD = 'board-operator-from-env-45';
    const api = await TestApi.start({
      AGENTRY_BOARD_OPERATOR_PASSWORD: 'env://T_BOARD_OPERATOR_PASSWORD',
    });
    try {
      const seen = (headers: Record<string, string>) =>
        api.http('GET', `${board}/api/queues`, undefined, headers);
      expect((await seen(basic('operator', 'board-operator-from-env-45'))).status).toBe(200);
      expect((await seen(basic('operator', 'env://T_BOARD_OPERATOR_PASSWORD'))).status).toBe(401);
      // No viewer is configured: the user does not exist.
      expect((await seen(basic('viewer', 'board-operator-from-env-45'))).status).toBe(401);
    } finally {
      await api.close();
    }
  });

  it('refuses to start when one does not resolve, naming the variable', async () => {
    await expect(
      TestApi.start({ AGENTRY_BOARD_VIEWER_PASSWORD: 'env://T_BOARD_NOT_SET_ANYWHERE' }),
    ).rejects.toThrow(/AGENTRY_BOARD_VIEWER_PASSWORD/);
  });
});
