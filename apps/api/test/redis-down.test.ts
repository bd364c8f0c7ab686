import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestApi } from './support/test-api';

/**
 * Redis unreachable (a closed port), Postgres up: the API must answer fast, never hang. A new
 * intent is refused before anything is saved — 503 UNAVAILABLE with Retry-After, so the producer
 * retries with the same idempotency key — rather than accepted into Postgres while it cannot be
 * queued; and no refused submission is kept as a dead letter (it was not bad input).
 */
describe('API with Redis down', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start({ AGENTRY_REDIS_URL: 'redis://127.0.0.1:1' });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('refuses a submission within 3 s with 503 UNAVAILABLE and Retry-After, saving nothing', async () => {
    for (const attempt of [1, 2]) {
      const started = Date.now();
      const answer = await api.http<{
        error: { code: string; message: string; details: Record<string, unknown> };
      }>(
        'POST',
        '/v1/runs',
        { text: 'echo 1 step', tenantId: 'acme' },
        { 'idempotency-key': 'redis-down-1' },
      );
      expect(Date.now() - started, `attempt ${attempt}`).toBeLessThan(3_000);
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(answer.body.error).toMatchObject({
        code: 'UNAVAILABLE',
        message: expect.stringMatching(/not accepted.*unreachable.*same idempotency key/),
        details: { reason: 'redis_unreachable', retryAfterMs: 1_000 },
      });
    }
    expect(await api.services.repos.runs.list({ tenantId: 'acme' })).toEqual([]);
    expect(await api.services.repos.deadLetters.list({})).toEqual([]);
    // Counted for the operator, with the reason the producer was given.
    const metrics = (await api.http('GET', '/metrics')).text;
    expect(metrics).toMatch(
      /^agentry_api_refusals_total\{route="\/v1\/runs",code="UNAVAILABLE",reason="redis_unreachable"[^}]*\} 2$/m,
    );
  });

  it('still refuses bad input as such (400), whatever the state of Redis', async () => {
    const answer = await api.http<{ error: { code: string } }>('POST', '/v1/runs', {
      tenantId: 'acme',
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('VALIDATION');
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
