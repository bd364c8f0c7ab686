import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestApi } from './support/test-api';

/** The value of the one series of `name` with exactly `labels` (besides `component`), or 0. */
function sample(page: string, name: string, labels: Record<string, string>): number {
  for (const line of page.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const got = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    delete got.component;
    if (
      JSON.stringify(Object.entries(got).sort()) === JSON.stringify(Object.entries(labels).sort())
    )
      return Number(match[3]);
  }
  return 0;
}

/**
 * What an operator reads off the API's /metrics: requests by route template and status, their
 * duration, and producers turned away by reason — each answer counted once, with no id or URL in
 * a label.
 */
describe('API traffic metrics', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('counts answers by route template and status, and refusals by code and reason', async () => {
    const accepted = await api.http<{ runId: string }>('POST', '/v1/runs', {
      text: 'echo 1 step',
      tenantId: 'acme',
    });
    expect(accepted.status).toBe(202);
    expect((await api.http('GET', `/v1/runs/${accepted.body.runId}`)).status).toBe(200);
    expect((await api.http('POST', '/v1/runs', '{"text": "echo', {})).status).toBe(400);
    expect((await api.http('POST', '/v1/runs', { tenantId: 'acme' })).status).toBe(400);
    const tooLarge = { text: 'x'.repeat(70_000), tenantId: 'acme' };
    expect((await api.http('POST', '/v1/runs', tooLarge)).status).toBe(413);
    expect((await api.http('GET', '/v1/no-such-route/123')).status).toBe(404);

    const page = (await api.http('GET', '/metrics')).text;
    const runs = { method: 'POST', route: '/v1/runs' };
    expect(sample(page, 'agentry_api_requests_total', { ...runs, status: '202' })).toBe(1);
    expect(sample(page, 'agentry_api_requests_total', { ...runs, status: '400' })).toBe(2);
    expect(sample(page, 'agentry_api_requests_total', { ...runs, status: '413' })).toBe(1);
    // The route's template, never the run id.
    const byId = { method: 'GET', route: '/v1/runs/:id', status: '200' };
    expect(sample(page, 'agentry_api_requests_total', byId)).toBe(1);
    expect(page).not.toContain(accepted.body.runId);
    expect(page).not.toContain('no-such-route');
    const unmatched = { method: 'GET', route: 'unmatched', status: '404' };
    expect(sample(page, 'agentry_api_requests_total', unmatched)).toBe(1);

    const refused = (code: string, reason: string) =>
      sample(page, 'agentry_api_refusals_total', { route: '/v1/runs', code, reason });
    expect(refused('VALIDATION', 'invalid_json')).toBe(1);
    expect(refused('VALIDATION', 'none')).toBe(1);
    expect(refused('VALIDATION', 'body_too_large')).toBe(1);
    expect(
      sample(page, 'agentry_api_refusals_total', {
        route: 'unmatched',
        code: 'NOT_FOUND',
        reason: 'none',
      }),
    ).toBe(1);
    // Every answer timed once, under its route.
    expect(sample(page, 'agentry_api_request_duration_seconds_count', runs)).toBe(4);
  });
});
