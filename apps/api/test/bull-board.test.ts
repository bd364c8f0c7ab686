import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestApi, redisUrl } from './support/test-api';

const password = 'board-pass-42';
const admin = { authorization: `Basic ${btoa(`admin:${password}`)}` };
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

/** The board's mutating API calls on one failed job of `agentry.step`. */
const mutations = (jobId: string): Array<[string, string]> => [
  ['PUT', `${board}/api/queues/agentry.step/${jobId}/retry`],
  ['PUT', `${board}/api/queues/agentry.step/${jobId}/clean`],
  ['PUT', `${board}/api/queues/agentry.step/${jobId}/promote`],
  ['PUT', `${board}/api/queues/agentry.step/retry/failed`],
  ['PUT', `${board}/api/queues/agentry.step/clean/failed`],
  ['PUT', `${board}/api/queues/agentry.step/promote`],
  ['PUT', `${board}/api/queues/agentry.step/pause`],
  ['PUT', `${board}/api/queues/agentry.step/empty`],
  ['PUT', `${board}/api/queues/agentry.step/obliterate`],
];

describe('Bull Board behind basic auth, read-only by default', () => {
  let api: TestApi;
  let jobId: string;
  let asset: string;
  beforeAll(async () => {
    api = await TestApi.start({ AGENTRY_BOARD_PASSWORD: password });
    jobId = await failedJob(api, 'drill-1');
    const page = await api.http('GET', board, undefined, admin);
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
    ['a wrong password', { authorization: `Basic ${btoa('admin:board-pass-43')}` }],
    ['a wrong user', { authorization: `Basic ${btoa(`root:${password}`)}` }],
    ['no password', { authorization: `Basic ${btoa('admin:')}` }],
    ['garbage', { authorization: 'Basic !!!' }],
    ['a bearer token', { authorization: `Bearer ${password}` }],
  ];

  it.each(refusals)('answers every board route with 401 given %s', async (_name, headers) => {
    expect(asset).toMatch(/\/static\//);
    const reads: Array<[string, string]> = [
      ['GET', board],
      ['GET', `${board}/`],
      ['GET', `${board}/queue/agentry.plan`],
      ['GET', asset],
      ['GET', `${board}/static/favicon-32x32.png`],
      ['GET', `${board}/api/queues`],
      ['GET', `${board}/api/redis/stats`],
      ['GET', `${board}/api/queues/agentry.step/${jobId}`],
      ['PUT', `${board}/api/queues/pause`],
    ];
    for (const [method, path] of [...reads, ...mutations(jobId)]) {
      const answer = await api.http(method, path, undefined, headers);
      expect(answer.status, `${method} ${path}`).toBe(401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      expect(answer.text).not.toMatch(/agentry\.step|drill/);
    }
    expect(await api.rawQueue('agentry.step').getJobState(jobId)).toBe('failed');
  });

  it('serves the page, its assets and the queues (all three) to admin', async () => {
    const page = await api.http('GET', board, undefined, admin);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const script = await api.http('GET', asset, undefined, admin);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);

    const queues = await api.http<{ queues: Array<{ name: string; readOnlyMode: boolean }> }>(
      'GET',
      `${board}/api/queues`,
      undefined,
      admin,
    );
    expect(queues.status).toBe(200);
    expect(queues.body.queues.map((q) => q.name).sort()).toEqual([
      'agentry.dlq',
      'agentry.plan',
      'agentry.step',
    ]);
    expect(queues.body.queues.every((q) => q.readOnlyMode)).toBe(true);
  });

  it('refuses every retry, clean, promote, pause, empty and obliterate with 405 QUEUE_READ_ONLY', async () => {
    for (const [method, path] of mutations(jobId)) {
      const answer = await api.http<{ error: { key: string } }>(method, path, undefined, admin);
      expect(answer.status, `${method} ${path}`).toBe(405);
      expect(answer.body.error.key).toBe('ERRORS.QUEUE_READ_ONLY');
    }
    // "Pause all" skips read-only queues instead of refusing.
    expect((await api.http('PUT', `${board}/api/queues/pause`, undefined, admin)).status).toBe(200);
    const queue = api.rawQueue('agentry.step');
    expect(await queue.isPaused()).toBe(false);
    expect(await queue.getJobState(jobId)).toBe('failed');
  });
});

describe('Bull Board with AGENTRY_BOARD_WRITABLE=true', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start({ AGENTRY_BOARD_PASSWORD: password, AGENTRY_BOARD_WRITABLE: 'true' });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('lets admin retry and then remove a failed job; still 401 without credentials', async () => {
    const jobId = await failedJob(api, 'drill-2');
    const queue = api.rawQueue('agentry.step');
    const retry = `${board}/api/queues/agentry.step/${jobId}/retry`;
    expect((await api.http('PUT', retry)).status).toBe(401);
    expect((await api.http('PUT', retry, undefined, admin)).status).toBe(204);
    expect(await queue.getJobState(jobId)).toBe('waiting');

    const clean = `${board}/api/queues/agentry.step/${jobId}/clean`;
    expect((await api.http('PUT', clean, undefined, admin)).status).toBe(204);
    expect(await queue.getJob(jobId)).toBeUndefined();
  });
});
