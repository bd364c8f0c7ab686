import { createProducer, createRedisConnection } from '@agentry/queue';
import { jobIds } from '@agentry/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitIntent } from '../src';
import { openEngineHarness, queueNames, type EngineHarness } from './support';

let h: EngineHarness;
beforeAll(async () => void (h = await openEngineHarness()));
afterAll(() => h.close());

describe('submitIntent', () => {
  it('refuses an invalid intent with VALIDATION and the zod issues, storing nothing', async () => {
    const error = await submitIntent(h.deps, { text: '', tenantId: 42 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VALIDATION', retryable: false });
    const issues = (error as { details: { issues: { path: string[] }[] } }).details.issues;
    expect(issues.map((i) => i.path.join('.')).sort()).toEqual(['tenantId', 'text']);
    expect(await h.repos.runs.list()).toEqual([]);
  });

  it('records a pending run and enqueues exactly one plan job, idempotent on the run id', async () => {
    const intent = { text: 'echo 2 steps', tenantId: 'acme' };
    const first = await submitIntent(h.deps, intent, { correlationId: 'corr-submit' });
    expect(first).toMatchObject({ created: true, state: 'pending', correlationId: 'corr-submit' });
    const again = await submitIntent(h.deps, intent, { runId: first.runId });
    expect(again).toMatchObject({ runId: first.runId, created: false });

    const job = await h.queue(queueNames.plan).getJob(jobIds.plan(first.runId));
    expect(job?.data).toEqual({
      intent: expect.objectContaining(intent),
      runId: first.runId,
      correlationId: 'corr-submit',
    });
    expect(await h.queue(queueNames.plan).getJobCountByTypes('wait')).toBe(1);
  });

  it('maps a repeated (tenant, idempotencyKey) to the same run and one plan job', async () => {
    const intent = { text: 'wait 1 s', tenantId: 'beta', idempotencyKey: 'key-1' };
    const before = await h.queue(queueNames.plan).getJobCountByTypes('wait');
    const a = await submitIntent(h.deps, intent);
    const b = await submitIntent(h.deps, { ...intent, text: 'something else' });
    expect(b).toMatchObject({ runId: a.runId, created: false });
    // Another tenant may use the same key.
    const c = await submitIntent(h.deps, { ...intent, tenantId: 'gamma' });
    expect(c.runId).not.toBe(a.runId);
    expect(await h.queue(queueNames.plan).getJobCountByTypes('wait')).toBe(before + 2);
  });

  it('accepts the intent with queued: false, fast, when Redis is down; the run stays pending for the reconciler', async () => {
    const connection = createRedisConnection('redis://127.0.0.1:1', 'producer');
    const producer = createProducer({ connection, prefix: h.prefix, timeoutMs: 1_000 });
    try {
      const started = Date.now();
      const accepted = await submitIntent(
        { ...h.deps, producer },
        { text: 'echo 1 step', tenantId: 'acme', idempotencyKey: 'down-1' },
      );
      expect(accepted).toMatchObject({ created: true, state: 'pending', queued: false });
      expect(Date.now() - started).toBeLessThan(2_500);
      const [run] = await h.repos.runs
        .list({ tenantId: 'acme', state: 'pending' })
        .then((runs) => runs.filter((r) => r.idempotencyKey === 'down-1'));
      expect(run?.state).toBe('pending');
      // Once Redis answers again, the same submit enqueues the plan job of the same run.
      const retried = await submitIntent(h.deps, {
        text: 'echo 1 step',
        tenantId: 'acme',
        idempotencyKey: 'down-1',
      });
      expect(retried).toMatchObject({
        runId: run?.id,
        created: false,
        state: 'pending',
        queued: true,
      });
      expect(await h.queue(queueNames.plan).getJob(jobIds.plan(run?.id ?? ''))).toBeDefined();
    } finally {
      await producer.close();
      connection.disconnect();
    }
  });
});
