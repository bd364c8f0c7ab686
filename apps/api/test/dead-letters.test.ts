import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, jobIds } from '@agentry/schema';
import { dispatchSteps } from '@agentry/engine';
import { createWorkerRuntime } from '@agentry/queue';
import { TestApi, redisUrl, storePlan } from './support/test-api';

interface Letter {
  id: string;
  sourceQueue: string;
  jobId: string;
  jobName: string;
  errorCode: string;
  replayedAt: string | null;
}

/**
 * Dead letters over HTTP. The failing job runs on the real worker runtime (real BullMQ failure,
 * real capture into Postgres and `agentry.dlq`); the CLI tests cover the same with the executor.
 */
describe('/v1/dead-letters', () => {
  let api: TestApi;
  let failed: Letter;
  beforeAll(async () => {
    api = await TestApi.start();
    const { body } = await api.http<{ runId: string }>('POST', '/v1/runs', {
      text: 'echo 1 step',
      tenantId: 'acme',
    });
    const roots = await storePlan(api, body.runId, { s1: [] }, 'running');
    await dispatchSteps(api.services.engine, { id: body.runId, correlationId: 'corr-dl' }, roots);
    const runtime = createWorkerRuntime({
      queue: 'agentry.step',
      connection: { url: redisUrl },
      prefix: api.services.prefix,
      log: api.services.log,
      deadLetters: api.services.repos.deadLetters,
      handlers: {
        step: async () => {
          throw new AppError('POLICY_DENIED', 'drill: refused for good');
        },
        compensate: async () => ({}),
      },
    });
    await runtime.start();
    try {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const [letter] = await api.services.repos.deadLetters.list({ sourceQueue: 'agentry.step' });
        if (letter) break;
        if (Date.now() > deadline) throw new Error('the step job was not dead-lettered');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await runtime.close({ deadlineMs: 5_000 });
    }
    const { body: list } = await api.http<{ deadLetters: Letter[] }>(
      'GET',
      '/v1/dead-letters?queue=agentry.step',
    );
    failed = list.deadLetters[0] as Letter;
    expect(failed).toMatchObject({
      jobId: jobIds.step(body.runId, 's1'),
      errorCode: 'POLICY_DENIED',
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('replays a dead letter: 200, the job is back on its queue, the letter marked replayed', async () => {
    const step = api.rawQueue('agentry.step');
    expect(await step.getJobState(failed.jobId)).toBe('failed');
    const replay = await api.http('POST', `/v1/dead-letters/${failed.id}/replay`, {});
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({
      id: failed.id,
      sourceQueue: 'agentry.step',
      jobId: failed.jobId,
      mode: 'retried',
    });
    expect(await step.getJobState(failed.jobId)).toBe('waiting');
    expect(await api.rawQueue('agentry.dlq').getJob(jobIds.deadLetter(failed.id))).toBeUndefined();

    const after = await api.http<Letter>('GET', `/v1/dead-letters/${failed.id}`);
    expect(after.body.replayedAt).not.toBeNull();
    const listed = await api.http<{ deadLetters: Letter[] }>('GET', '/v1/dead-letters');
    expect(listed.body.deadLetters.map((l) => l.id)).not.toContain(failed.id);
    const all = await api.http<{ deadLetters: Letter[] }>(
      'GET',
      '/v1/dead-letters?includeReplayed=true',
    );
    expect(all.body.deadLetters.map((l) => l.id)).toContain(failed.id);

    // The job is waiting again, so a second replay is a conflict, not a second job.
    const again = await api.http<{ error: { code: string } }>(
      'POST',
      `/v1/dead-letters/${failed.id}/replay`,
      {},
    );
    expect(again.status).toBe(409);
  });

  it('refuses to replay a refused submission (it was never a job) with 400; unknown ids 404', async () => {
    const bad = await api.http<{ error: { details: { deadLetterId: string } } }>(
      'POST',
      '/v1/runs',
      { text: '' },
    );
    const id = bad.body.error.details.deadLetterId;
    const replay = await api.http<{ error: { code: string; message: string } }>(
      'POST',
      `/v1/dead-letters/${id}/replay`,
      {},
    );
    expect(replay.status).toBe(400);
    expect(replay.body.error.message).toMatch(/cannot be replayed/);
    const unknown = await api.http(
      'POST',
      '/v1/dead-letters/00000000-0000-4000-8000-000000000000/replay',
      {},
    );
    expect(unknown.status).toBe(404);
  });

  it('pages through dead letters newest first with the `next` cursor, each once', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await api.http('POST', '/v1/runs', { text: `bad ${i}` })).status).toBe(400);
    }
    const seen: Letter[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const q = `queue=api&limit=2${after ? `&after=${encodeURIComponent(after)}` : ''}`;
      const { body } = await api.http<{ deadLetters: Letter[]; next?: string }>(
        'GET',
        `/v1/dead-letters?${q}`,
      );
      seen.push(...body.deadLetters);
      if (body.next === undefined) break;
      after = body.next;
    }
    const { body: all } = await api.http<{ deadLetters: Letter[] }>(
      'GET',
      '/v1/dead-letters?queue=api&limit=500',
    );
    expect(all.deadLetters.length).toBeGreaterThanOrEqual(5);
    expect(seen.map((l) => l.id)).toEqual(all.deadLetters.map((l) => l.id));
    const times = seen.map((l) => Date.parse((l as unknown as { failedAt: string }).failedAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect((await api.http('GET', '/v1/dead-letters?after=nope')).status).toBe(400);
  });

  it('purges by ids or by age, and refuses a purge without either', async () => {
    for (const body of [{}, { ids: ['not-a-uuid'] }, { olderThan: 'yesterday' }, { all: true }]) {
      const answer = await api.http<{ error: { code: string } }>(
        'POST',
        '/v1/dead-letters/purge',
        body,
      );
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION');
    }
    const kept = await api.http<{ error: { details: { deadLetterId: string } } }>(
      'POST',
      '/v1/runs',
      [],
    );
    const id = kept.body.error.details.deadLetterId;
    const byId = await api.http('POST', '/v1/dead-letters/purge', { ids: [id] });
    expect(byId.body).toEqual({ purged: 1 });
    expect((await api.http('GET', `/v1/dead-letters/${id}`)).status).toBe(404);

    const byAge = await api.http('POST', '/v1/dead-letters/purge', {
      olderThan: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(byAge.status).toBe(200);
    const left = await api.http<{ deadLetters: Letter[] }>(
      'GET',
      '/v1/dead-letters?includeReplayed=true',
    );
    expect(left.body.deadLetters).toEqual([]);
  });
});
