import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@agentry/queue/testing';
import { TestApi } from './support/test-api';

/** Log levels change fleet-wide at run time: the API announces, every process applies. */
describe('PUT /v1/admin/log-level', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start({ AGENTRY_LOG_LEVEL: 'info' });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('sets the level of the named component only, and of all, without a restart; audited', async () => {
    const log = api.services.log;
    expect(log.level).toBe('info');
    const other = await api.http<{ processes: number }>('PUT', '/v1/admin/log-level', {
      component: 'executor',
      level: 'debug',
    });
    expect(other.status).toBe(200);
    const mine = await api.http<{ processes: number }>('PUT', '/v1/admin/log-level', {
      component: 'api-test',
      level: 'debug',
      actor: 'oncall',
    });
    expect(mine.body).toMatchObject({ component: 'api-test', level: 'debug' });
    expect(mine.body.processes).toBeGreaterThanOrEqual(1);
    await waitFor(() => log.level === 'debug', 5_000, 'level applied');

    await api.http('PUT', '/v1/admin/log-level', { component: 'all', level: 'warn' });
    await waitFor(() => log.level === 'warn', 5_000, 'level applied to all');

    const audit = await api.services.repos.audit.list({ targetId: 'api-test' });
    expect(audit).toEqual([expect.objectContaining({ actor: 'oncall', action: 'log-level.set' })]);
  });

  it('refuses an unknown level or component with 400', async () => {
    for (const body of [
      { component: 'api-test', level: 'loud' },
      { component: 'API TEST', level: 'debug' },
      { component: 'api-test' },
    ]) {
      expect((await api.http('PUT', '/v1/admin/log-level', body)).status).toBe(400);
    }
  });
});
