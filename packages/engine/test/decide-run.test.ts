import { jobIds } from '@agentry/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveRun, cancelRun, rejectRun } from '../src';
import { openEngineHarness, queueNames, seedPlannedRun, type EngineHarness } from './support';

let h: EngineHarness;
beforeAll(async () => void (h = await openEngineHarness()));
afterAll(() => h.close());

const diamond = [
  { id: 'a', tool: 'echo' },
  { id: 'b', tool: 'echo', dependsOn: ['a'] },
];
const decision = (runId: string) => ({ runId, actor: 'ops@acme', reason: 'looked fine' });

describe('approveRun / rejectRun / cancelRun', () => {
  it('approves a parked run: running, roots enqueued once, audited; a second approve conflicts', async () => {
    const { runId, correlationId, rootStepIds } = await seedPlannedRun(h.repos, diamond, {
      dryRun: true,
    });
    expect(rootStepIds).toEqual([]);
    expect(await approveRun(h.deps, decision(runId))).toEqual({ runId, state: 'running' });
    const job = await h.queue(queueNames.step).getJob(jobIds.step(runId, 'a'));
    expect(job?.data).toEqual({ runId, stepId: 'a', correlationId });
    expect(await h.queue(queueNames.step).getJob(jobIds.step(runId, 'b'))).toBeUndefined();
    await expect(approveRun(h.deps, decision(runId))).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { state: 'running' },
    });
    await expect(rejectRun(h.deps, decision(runId))).rejects.toMatchObject({ code: 'CONFLICT' });
    const audit = await h.repos.audit.list({ targetId: runId });
    expect(audit.map((a) => [a.action, a.actor, a.details])).toEqual([
      ['run.approve', 'ops@acme', { reason: 'looked fine' }],
    ]);
  });

  it('rejects a parked run with its reason and audit row; deciding it again conflicts', async () => {
    const { runId } = await seedPlannedRun(h.repos, diamond, { dryRun: true });
    expect(await rejectRun(h.deps, decision(runId))).toEqual({ runId, state: 'rejected' });
    const run = await h.repos.runs.get(runId);
    expect(run).toMatchObject({
      state: 'rejected',
      error: { code: 'POLICY_DENIED', message: 'looked fine' },
    });
    await expect(approveRun(h.deps, decision(runId))).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(cancelRun(h.deps, decision(runId))).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await h.repos.audit.list({ targetId: runId })).map((a) => a.action)).toEqual([
      'run.reject',
    ]);
  });

  it('answers NOT_FOUND for an unknown run', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    await expect(approveRun(h.deps, decision(missing))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(cancelRun(h.deps, decision('not-a-uuid'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('cancels a parked run without a compensate job (nothing ran)', async () => {
    const { runId } = await seedPlannedRun(h.repos, diamond, { dryRun: true });
    expect(await cancelRun(h.deps, decision(runId))).toEqual({ runId, state: 'cancelled' });
    expect((await h.queue(queueNames.step).getJob(jobIds.compensate(runId)))?.id).toBeUndefined();
    const steps = (await h.repos.runs.detail(runId))?.steps.map((s) => s.state);
    expect(steps).toEqual(['cancelled', 'cancelled']);
  });

  it('cancels a running run with a completed step: one compensate job, audited; cancelling again conflicts', async () => {
    const { runId, correlationId } = await seedPlannedRun(h.repos, diamond);
    const claim = await h.repos.steps.startAttempt(runId, 'a', {
      attempt: 1,
      jobId: 'j',
      worker: 'w',
    });
    if (claim.kind !== 'run') throw new Error('step a should be runnable');
    await h.repos.steps.complete(runId, 'a', claim.attemptId, { ok: true });

    expect(await cancelRun(h.deps, decision(runId))).toEqual({ runId, state: 'cancelled' });
    await expect(cancelRun(h.deps, decision(runId))).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { state: 'cancelled' },
    });
    const jobs = await h.queue(queueNames.step).getJobs(['wait']);
    const compensations = jobs.filter((j) => j.name === 'compensate' && j.data.runId === runId);
    expect(compensations.map((j) => [j.id, j.data])).toEqual([
      [jobIds.compensate(runId), { runId, correlationId, reason: 'cancelled: looked fine' }],
    ]);
    expect((await h.repos.audit.list({ targetId: runId })).map((a) => a.action)).toEqual([
      'run.cancel',
    ]);
    expect((await h.repos.runs.detail(runId))?.steps.map((s) => s.state)).toEqual([
      'succeeded',
      'cancelled',
    ]);
  });

  it('cancels a running run where nothing completed yet without a compensate job', async () => {
    const { runId } = await seedPlannedRun(h.repos, diamond);
    await cancelRun(h.deps, decision(runId));
    expect((await h.queue(queueNames.step).getJob(jobIds.compensate(runId)))?.id).toBeUndefined();
  });
});
