import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestApi } from './support/test-api';

const token = 'test-token-0123456789';
const someUuid = '00000000-0000-4000-8000-000000000000';

/** Every /v1 route, with a body that would be accepted where one is needed. */
const routes: Array<[method: string, path: string, body?: unknown]> = [
  ['POST', '/v1/runs', { text: 'echo 1 step', tenantId: 'acme' }],
  ['GET', '/v1/runs'],
  ['GET', `/v1/runs/${someUuid}`],
  ['POST', `/v1/runs/${someUuid}/approve`, { planHash: 'a'.repeat(64) }],
  ['POST', `/v1/runs/${someUuid}/reject`, {}],
  ['POST', `/v1/runs/${someUuid}/cancel`, {}],
  ['GET', '/v1/dead-letters'],
  ['GET', `/v1/dead-letters/${someUuid}`],
  ['POST', `/v1/dead-letters/${someUuid}/replay`, {}],
  ['POST', '/v1/dead-letters/purge', { ids: [someUuid] }],
];

/** With AGENTRY_API_TOKEN set, /v1 needs `Authorization: Bearer <token>`; probes stay open. */
describe('bearer auth on /v1', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start({ AGENTRY_API_TOKEN: token });
  });
  afterAll(async () => {
    await api?.close();
  });

  const refusals: Array<[string, Record<string, string>]> = [
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer test-token-0123456780' }],
    ['a token prefix', { authorization: `Bearer ${token.slice(0, -1)}` }],
    ['basic instead of bearer', { authorization: `Basic ${btoa(`admin:${token}`)}` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ];

  it.each(refusals)('answers every /v1 route with 401 given %s', async (_name, headers) => {
    for (const [method, path, body] of routes) {
      const answer = await api.http<{ error: { code: string } }>(method, path, body, headers);
      expect(answer.status, `${method} ${path}`).toBe(401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(answer.body.error.code).toBe('POLICY_DENIED');
      expect(answer.text).not.toContain(token);
    }
    // A refused request does nothing: no run, no dead letter, no job.
    expect(await api.services.repos.runs.list({})).toEqual([]);
    expect(await api.services.repos.deadLetters.list({})).toEqual([]);
    expect(await api.rawQueue('agentry.plan').count()).toBe(0);
  });

  it('accepts the scheme in any case (RFC 9110: auth schemes are case-insensitive)', async () => {
    const answer = await api.http('GET', '/v1/runs', undefined, {
      authorization: `bearer ${token}`,
    });
    expect(answer.status).toBe(200);
  });

  it('lets the right token through on every /v1 route', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const statuses: Record<string, number> = {};
    for (const [method, path, body] of routes) {
      statuses[`${method} ${path}`] = (await api.http(method, path, body, auth)).status;
    }
    // Past auth, each route answers for itself: accepted, listed, or not found for the fake id.
    expect(statuses).toEqual({
      'POST /v1/runs': 202,
      'GET /v1/runs': 200,
      [`GET /v1/runs/${someUuid}`]: 404,
      [`POST /v1/runs/${someUuid}/approve`]: 404,
      [`POST /v1/runs/${someUuid}/reject`]: 404,
      [`POST /v1/runs/${someUuid}/cancel`]: 404,
      'GET /v1/dead-letters': 200,
      [`GET /v1/dead-letters/${someUuid}`]: 404,
      [`POST /v1/dead-letters/${someUuid}/replay`]: 404,
      'POST /v1/dead-letters/purge': 200,
    });
  });

  it('keeps health, readiness and metrics open', async () => {
    expect((await api.http('GET', '/healthz')).status).toBe(200);
    const ready = await api.http('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
    const metrics = await api.http('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/process_cpu_user_seconds_total/);
  });

  it('has Bull Board off without AGENTRY_BOARD_PASSWORD', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const answer = await api.http<{ error: { code: string } }>('GET', path);
      expect(answer.status, path).toBe(404);
      expect(answer.body.error.code).toBe('NOT_FOUND');
    }
  });
});
