import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlanJob, jobIds } from '@agentry/schema';
import { TestApi } from './support/test-api';

interface Submitted {
  runId: string;
  created: boolean;
  state: string;
  queued: boolean;
  correlationId: string;
  links: { self: string };
}

/** Submitting intents over HTTP: what a producer gets back and what lands on `agentry.plan`. */
describe('POST /v1/runs', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers 202 with a Location, and the plan job is on agentry.plan under plan.<runId>', async () => {
    const answer = await api.http<Submitted>(
      'POST',
      '/v1/runs',
      { text: 'echo 2 steps', tenantId: 'acme', metadata: { ticket: 'OPS-1' } },
      { 'x-correlation-id': 'corr-submit-1' },
    );
    expect(answer.status).toBe(202);
    const { runId } = answer.body;
    expect(answer.body).toMatchObject({
      created: true,
      state: 'pending',
      queued: true,
      correlationId: 'corr-submit-1',
      links: { self: `/v1/runs/${runId}` },
    });
    expect(answer.headers.get('location')).toBe(`/v1/runs/${runId}`);
    expect(answer.headers.get('x-correlation-id')).toBe('corr-submit-1');

    const job = await api.rawQueue('agentry.plan').getJob(jobIds.plan(runId));
    expect(job?.id).toBe(`plan.${runId}`);
    expect(job?.name).toBe('plan');
    const payload = PlanJob.parse(job?.data);
    expect(payload).toMatchObject({
      runId,
      correlationId: 'corr-submit-1',
      intent: { text: 'echo 2 steps', tenantId: 'acme', metadata: { ticket: 'OPS-1' } },
    });

    const detail = await api.http<{ run: { id: string; state: string } }>(
      'GET',
      `/v1/runs/${runId}`,
    );
    expect(detail.body.run).toMatchObject({ id: runId, state: 'pending' });
  });

  it('honours the Idempotency-Key header: a retry returns the same run with 200 and one job', async () => {
    const intent = { text: 'echo 1 step', tenantId: 'acme' };
    const headers = { 'idempotency-key': 'order-4711' };
    const first = await api.http<Submitted>('POST', '/v1/runs', intent, headers);
    const again = await api.http<Submitted>('POST', '/v1/runs', intent, headers);
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ runId: first.body.runId, created: false });
    expect(again.headers.get('location')).toBe(`/v1/runs/${first.body.runId}`);

    const other = await api.http<Submitted>('POST', '/v1/runs', intent, {
      'idempotency-key': 'order-4712',
    });
    expect(other.status).toBe(202);
    expect(other.body.runId).not.toBe(first.body.runId);

    const { body } = await api.http<{ runs: Array<{ id: string; idempotencyKey: string }> }>(
      'GET',
      '/v1/runs?tenantId=acme&limit=500',
    );
    expect(body.runs.filter((r) => r.idempotencyKey === 'order-4711')).toHaveLength(1);
    const jobs = await api.rawQueue('agentry.plan').getJobs(['waiting']);
    expect(jobs.filter((j) => j.id === jobIds.plan(first.body.runId))).toHaveLength(1);
  });

  it('refuses an Idempotency-Key header that is not a valid key', async () => {
    const answer = await api.http<{ error: { code: string; details: { issues: unknown[] } } }>(
      'POST',
      '/v1/runs',
      { text: 'echo 1 step', tenantId: 'acme' },
      { 'idempotency-key': 'has spaces in it' },
    );
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body.error.details.issues)).toMatch(/idempotencyKey/);
  });

  it('lists runs filtered by tenant and state, newest first, within the limit', async () => {
    const submit = async (tenantId: string) =>
      (await api.http<Submitted>('POST', '/v1/runs', { text: 'echo 1 step', tenantId })).body.runId;
    const a1 = await submit('list-a');
    const a2 = await submit('list-a');
    const b1 = await submit('list-b');
    await api.http('POST', `/v1/runs/${a1}/cancel`, { reason: 'test' });

    type Listed = { runs: Array<{ id: string; tenantId: string; state: string }> };
    const onlyA = await api.http<Listed>('GET', '/v1/runs?tenantId=list-a');
    expect(onlyA.body.runs.map((r) => r.id)).toEqual([a2, a1]);
    const cancelledA = await api.http<Listed>('GET', '/v1/runs?tenantId=list-a&state=cancelled');
    expect(cancelledA.body.runs.map((r) => r.id)).toEqual([a1]);
    const pendingB = await api.http<Listed>('GET', '/v1/runs?tenantId=list-b&state=pending');
    expect(pendingB.body.runs.map((r) => r.id)).toEqual([b1]);
    const one = await api.http<Listed>('GET', '/v1/runs?limit=1');
    expect(one.body.runs).toHaveLength(1);
    const badTenant = await api.http('GET', '/v1/runs?tenantId=Not%20A%20Slug');
    expect(badTenant.status).toBe(400);
  });
});
