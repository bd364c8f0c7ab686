import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@agentry/schema';
import { createRepositories, type CaptureDeadLetterInput, type Repositories } from '../src';
import { createTestDatabase, type TestDatabase } from '../src/testing';

describe('dead letters and audit log (Postgres)', () => {
  let t: TestDatabase;
  let repos: Repositories;
  beforeAll(async () => {
    t = await createTestDatabase();
    repos = createRepositories(t.db);
  });
  afterAll(async () => {
    await t.close();
  });

  const entry = (over: Partial<CaptureDeadLetterInput> = {}): CaptureDeadLetterInput => ({
    sourceQueue: 'agentry.plan',
    jobId: `job-${randomUUID()}`,
    jobName: 'plan',
    reason: 'payload is invalid',
    errorCode: 'VALIDATION',
    attempts: 1,
    payload: { intent: { text: '' } },
    ...over,
  });

  it('captures once per failure, and again after a replay', async () => {
    const e = entry({
      error: new AppError('VALIDATION', 'intent text is empty', { details: { path: 'text' } }),
    });
    const first = await repos.deadLetters.capture(e);
    expect(first.created).toBe(true);
    expect(await repos.deadLetters.capture(e)).toEqual({ id: first.id, created: false });

    const row = await repos.deadLetters.get(first.id);
    expect(row).toMatchObject({
      sourceQueue: 'agentry.plan',
      jobId: e.jobId,
      errorCode: 'VALIDATION',
      error: {
        code: 'VALIDATION',
        message: 'intent text is empty',
        retryable: false,
        details: { path: 'text' },
      },
      payload: { intent: { text: '' } },
      replayedAt: null,
      replayCount: 0,
    });

    const replayed = await repos.deadLetters.markReplayed(first.id);
    expect(replayed?.replayCount).toBe(1);
    expect(replayed?.replayedAt).toBeInstanceOf(Date);
    const again = await repos.deadLetters.capture(e);
    expect(again.created).toBe(true);
    expect(again.id).not.toBe(first.id);
    expect(await repos.deadLetters.markReplayed(randomUUID())).toBeUndefined();
  });

  it('keeps payloads that are not JSON objects, and odd errors', async () => {
    const raw = await repos.deadLetters.capture(
      entry({ payload: 'not json\u0000at all', error: 'a string' }),
    );
    expect((await repos.deadLetters.get(raw.id))?.payload).toEqual({ raw: 'not json\ufffdat all' });
    expect((await repos.deadLetters.get(raw.id))?.error).toMatchObject({
      code: 'VALIDATION',
      message: 'a string',
    });
    const list = await repos.deadLetters.capture(entry({ payload: [1, 2n], runId: 'not-a-uuid' }));
    expect((await repos.deadLetters.get(list.id))?.payload).toEqual({ raw: [1, '2'] });
    const none = await repos.deadLetters.capture(entry({ payload: undefined }));
    expect((await repos.deadLetters.get(none.id))?.payload).toEqual({ raw: null });
  });

  it('keeps payloads jsonb would refuse: unpaired surrogates and NUL, in values and in keys', async () => {
    // A poison job must always be capturable, or it is redelivered forever.
    const poison = await repos.deadLetters.capture(
      entry({
        payload: { intent: { text: 'a\ud800b', metadata: { 'k\u0000ey': '\udc00', ok: '😀' } } },
      }),
    );
    expect((await repos.deadLetters.get(poison.id))?.payload).toEqual({
      intent: { text: 'a\ufffdb', metadata: { 'k\ufffdey': '\ufffd', ok: '😀' } },
    });
  });

  it('lists newest first, hiding replayed ones unless asked, and purges', async () => {
    const queue = `q-${randomUUID()}`;
    let ms = Date.parse('2001-01-01T00:00:00Z');
    const clocked = createRepositories(t.db, { clock: () => new Date((ms += 1_000)) });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await clocked.deadLetters.capture(entry({ sourceQueue: queue }))).id);
    await repos.deadLetters.markReplayed(ids[0] ?? '');
    expect((await repos.deadLetters.list({ sourceQueue: queue })).map((d) => d.id)).toEqual([
      ids[2],
      ids[1],
    ]);
    const all = await repos.deadLetters.list({
      sourceQueue: queue,
      includeReplayed: true,
      limit: 10,
    });
    expect(all.map((d) => d.id)).toEqual([...ids].reverse());

    await expect(repos.deadLetters.purge({})).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(await repos.deadLetters.purge({ ids: [ids[2] ?? '', 'not-a-uuid'] })).toBe(1);
    expect(await repos.deadLetters.purge({ ids: [ids[2] ?? ''] })).toBe(0);
    expect(await repos.deadLetters.purge({ olderThan: new Date('2001-01-01T00:00:01.500Z') })).toBe(
      1,
    );
    expect(
      (await repos.deadLetters.list({ sourceQueue: queue, includeReplayed: true })).map(
        (d) => d.id,
      ),
    ).toEqual([ids[1]]);
  });

  it('records and lists audit entries, newest first', async () => {
    const targetId = randomUUID();
    const a = await repos.audit.record({
      actor: 'alice',
      action: 'run.approve',
      targetType: 'run',
      targetId,
    });
    const b = await repos.audit.record({
      actor: 'bob',
      action: 'dlq.replay',
      targetType: 'run',
      targetId,
      details: { reason: 'fixed' },
    });
    expect(a).toMatchObject({ actor: 'alice', details: {} });
    expect(typeof a.id).toBe('string');
    const list = await repos.audit.list({ targetId, limit: 10 });
    expect(list.map((r) => r.id)).toEqual([b.id, a.id]);
    expect(list[0]?.details).toEqual({ reason: 'fixed' });
  });
});
