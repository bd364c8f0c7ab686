import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestApi } from './support/test-api';

/**
 * Redis unreachable (a closed port), Postgres up: the API must answer fast, never hang. The run
 * row is committed before its plan job is enqueued, so the intent is durably accepted
 * (`queued: false`; the planner's reconciler enqueues pending runs later), and a retry with the
 * same Idempotency-Key returns the same run instead of a second one.
 */
describe('API with Redis down', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start({ AGENTRY_REDIS_URL: 'redis://127.0.0.1:1' });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('accepts a submission within 3 s as 202 queued: false, kept pending for the reconciler', async () => {
    const started = Date.now();
    const answer = await api.http<{ runId: string; created: boolean; queued: boolean }>(
      'POST',
      '/v1/runs',
      { text: 'echo 1 step', tenantId: 'acme' },
      { 'idempotency-key': 'redis-down-1' },
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ created: true, queued: false, state: 'pending' });

    const run = await api.services.repos.runs.get(answer.body.runId);
    expect(run?.state).toBe('pending');

    const retried = await api.http<{ runId: string; created: boolean; queued: boolean }>(
      'POST',
      '/v1/runs',
      { text: 'echo 1 step', tenantId: 'acme' },
      { 'idempotency-key': 'redis-down-1' },
    );
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({
      runId: answer.body.runId,
      created: false,
      queued: false,
    });
  });

  it('answers /readyz with 503 and the redis check failing, postgres ok', async () => {
    const started = Date.now();
    const ready = await api.http<{ status: string; checks: Record<string, string> }>(
      'GET',
      '/readyz',
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(ready.status).toBe(503);
    expect(ready.body.status).toBe('not_ready');
    expect(ready.body.checks.postgres).toBe('ok');
    expect(ready.body.checks.redis).not.toBe('ok');
  });

  it('answers Redis-backed operations with a fast 503, and reads from Postgres still work', async () => {
    const started = Date.now();
    const purge = await api.http<{ error: { code: string } }>('POST', '/v1/dead-letters/purge', {
      olderThan: new Date().toISOString(),
    });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(purge.status).toBe(503);
    expect(purge.body.error.code).toBe('UNAVAILABLE');
    expect((await api.http('GET', '/v1/runs')).status).toBe(200);
    expect((await api.http('GET', '/healthz')).status).toBe(200);
  });
});
