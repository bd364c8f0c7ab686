import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompensateJob, StepJob, jobIds } from '@agentry/schema';
import { TestApi, planHashOf, storePlan } from './support/test-api';

interface Conflict {
  error: { code: string; message: string; details: { state: string } };
}

/**
 * Approve, reject and cancel over HTTP. Runs are moved to `awaiting_approval` or `running` through
 * the real repository, as the planner would, so no planner runs here.
 */
describe('POST /v1/runs/:id/approve | reject | cancel', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(async () => {
    await api?.close();
  });

  const submit = async (dryRun = false) => {
    const { body } = await api.http<{ runId: string }>('POST', '/v1/runs', {
      text: 'echo 2 steps',
      tenantId: 'acme',
      dryRun,
    });
    return body.runId;
  };

  it('approves a run awaiting approval: its root step is enqueued; a second approve is 409', async () => {
    const runId = await submit(true);
    await storePlan(api, runId, { s1: [], s2: ['s1'] }, 'awaiting_approval');
    const planHash = planHashOf({ s1: [], s2: ['s1'] });
    const changed = await api.http<Conflict>('POST', `/v1/runs/${runId}/approve`, {
      actor: 'alice',
      planHash: 'a'.repeat(64),
    });
    expect(changed.status).toBe(409);
    expect(changed.body.error.message).toMatch(/the plan changed since it was reviewed/);
    const unbound = await api.http<Conflict>('POST', `/v1/runs/${runId}/approve`, {
      actor: 'alice',
    });
    expect(unbound.status).toBe(400);
    const approved = await api.http('POST', `/v1/runs/${runId}/approve`, {
      actor: 'alice',
      reason: 'ok',
      planHash,
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toEqual({ runId, state: 'running', planHash });
    const job = await api.rawQueue('agentry.step').getJob(jobIds.step(runId, 's1'));
    expect(StepJob.parse(job?.data)).toMatchObject({ runId, stepId: 's1' });
    expect(await api.rawQueue('agentry.step').getJob(jobIds.step(runId, 's2'))).toBeUndefined();

    const twice = await api.http<Conflict>('POST', `/v1/runs/${runId}/approve`, { planHash });
    expect(twice.status).toBe(409);
    expect(twice.body.error).toMatchObject({ code: 'CONFLICT', details: { state: 'running' } });
  });

  it('answers approve and reject of a run not awaiting approval with 409 and its state', async () => {
    const runId = await submit();
    for (const verb of ['approve', 'reject']) {
      const body = verb === 'approve' ? { planHash: 'a'.repeat(64) } : {};
      const answer = await api.http<Conflict>('POST', `/v1/runs/${runId}/${verb}`, body);
      expect(answer.status, verb).toBe(409);
      expect(answer.body.error.details.state).toBe('pending');
      expect(answer.body.error.message).toMatch(/pending, not awaiting approval/);
    }
  });

  it('rejects a run awaiting approval with the reason; then cancel is 409 (rejected)', async () => {
    const runId = await submit(true);
    await storePlan(api, runId, { s1: [] }, 'awaiting_approval');
    const rejected = await api.http('POST', `/v1/runs/${runId}/reject`, { reason: 'not today' });
    expect(rejected.body).toEqual({ runId, state: 'rejected' });
    const detail = await api.http<{ run: { state: string; error: { message: string } } }>(
      'GET',
      `/v1/runs/${runId}`,
    );
    expect(detail.body.run.state).toBe('rejected');
    expect(detail.body.run.error.message).toMatch(/not today/);
    const cancel = await api.http<Conflict>('POST', `/v1/runs/${runId}/cancel`, {});
    expect(cancel.status).toBe(409);
    expect(cancel.body.error.details.state).toBe('rejected');
  });

  it('cancels a running run with a completed step: its compensate job is enqueued; again is 409', async () => {
    const runId = await submit();
    await storePlan(api, runId, { s1: [], s2: ['s1'] }, 'running');
    // s1 ran and succeeded, as the executor would record it: there is something to undo.
    const steps = api.services.repos.steps;
    const started = await steps.startAttempt(runId, 's1', { attempt: 1, jobId: 'j1', worker: 't' });
    if (started.kind !== 'run') throw new Error(`s1 did not start: ${started.kind}`);
    await steps.complete(runId, 's1', started.attemptId, { ok: true });
    const cancelled = await api.http('POST', `/v1/runs/${runId}/cancel`, {
      actor: 'bob',
      reason: 'wrong build',
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({
      runId,
      state: 'cancelled',
      compensating: 1,
      spentUsd: 0,
    });
    const job = await api.rawQueue('agentry.step').getJob(jobIds.compensate(runId));
    expect(job?.name).toBe('compensate');
    expect(CompensateJob.parse(job?.data)).toMatchObject({
      runId,
      reason: 'cancelled: wrong build',
    });
    const audit = await api.database.db
      .selectFrom('auditLog')
      .selectAll()
      .where('targetId', '=', runId)
      .execute();
    expect(audit).toEqual([expect.objectContaining({ actor: 'bob', action: 'run.cancel' })]);

    const again = await api.http<Conflict>('POST', `/v1/runs/${runId}/cancel`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.details.state).toBe('cancelled');
  });

  it('cancels a pending run, or a running one with nothing completed, without a compensate job', async () => {
    const pending = await submit();
    const running = await submit();
    await storePlan(api, running, { s1: [] }, 'running');
    for (const runId of [pending, running]) {
      const cancelled = await api.http('POST', `/v1/runs/${runId}/cancel`, {});
      expect(cancelled.status).toBe(200);
      expect(await api.rawQueue('agentry.step').getJob(jobIds.compensate(runId))).toBeUndefined();
    }
  });

  it('refuses decisions with unknown fields, and unknown runs with 404', async () => {
    const runId = await submit(true);
    const bad = await api.http('POST', `/v1/runs/${runId}/approve`, { actor: 'x', force: true });
    expect(bad.status).toBe(400);
    const unknown = await api.http<Conflict>(
      'POST',
      '/v1/runs/00000000-0000-4000-8000-000000000000/cancel',
      {},
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
  });
});
