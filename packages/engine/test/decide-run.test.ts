import { jobIds } from '@agentry/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toJson } from '@agentry/db';
import { approveRun, cancelRun, dispatchSteps, expireApprovals, rejectRun } from '../src';
import { openEngineHarness, queueNames, seedPlannedRun, type EngineHarness } from './support';

let h: EngineHarness;
beforeAll(async () => void (h = await openEngineHarness()));
afterAll(() => h.close());

const diamond = [
  { id: 'a', tool: 'echo' },
  { id: 'b', tool: 'echo', dependsOn: ['a'] },
];
const decision = (runId: string, planHash = 'none') => ({
  runId,
  actor: 'ops@acme',
  reason: 'looked fine',
  planHash,
});

describe('approveRun / rejectRun / cancelRun', () => {
  it('approves a parked run: running, roots enqueued once, audited; a second approve conflicts', async () => {
    const { runId, correlationId, rootStepIds, planHash } = await seedPlannedRun(h.repos, diamond, {
      dryRun: true,
    });
    expect(rootStepIds).toEqual([]);
    expect(await approveRun(h.deps, decision(runId, planHash))).toEqual({
      runId,
      state: 'running',
      planHash,
    });
    const job = await h.queue(queueNames.step).getJob(jobIds.step(runId, 'a'));
    expect(job?.data).toEqual({ runId, stepId: 'a', correlationId, tenantId: 'acme' });
    expect(await h.queue(queueNames.step).getJob(jobIds.step(runId, 'b'))).toBeUndefined();
    await expect(approveRun(h.deps, decision(runId, planHash))).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { state: 'running' },
    });
    await expect(rejectRun(h.deps, decision(runId))).rejects.toMatchObject({ code: 'CONFLICT' });
    const audit = await h.repos.audit.list({ targetId: runId });
    expect(audit.map((a) => [a.action, a.actor, a.details])).toEqual([
      ['run.approve', 'ops@acme', { reason: 'looked fine', planHash }],
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
    expect(await cancelRun(h.deps, decision(runId))).toMatchObject({ runId, state: 'cancelled' });
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

    expect(await cancelRun(h.deps, decision(runId))).toMatchObject({
      runId,
      state: 'cancelled',
      compensating: 1,
      spentUsd: 0,
    });
    await expect(cancelRun(h.deps, decision(runId))).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { state: 'cancelled' },
    });
    const jobs = await h.queue(queueNames.step).getJobs(['wait']);
    const compensations = jobs.filter((j) => j.name === 'compensate' && j.data.runId === runId);
    expect(compensations.map((j) => [j.id, j.data])).toEqual([
      [
        jobIds.compensate(runId),
        { runId, correlationId, reason: 'cancelled: looked fine', tenantId: 'acme' },
      ],
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

  it('withdraws the queued jobs of a cancelled run: nothing is left waiting', async () => {
    const { runId, correlationId, rootStepIds } = await seedPlannedRun(h.repos, [
      { id: 'a', tool: 'echo' },
      { id: 'b', tool: 'echo' },
    ]);
    expect(await dispatchSteps(h.deps, { id: runId, correlationId }, rootStepIds)).toBe(2);
    expect(await cancelRun(h.deps, decision(runId))).toMatchObject({
      state: 'cancelled',
      withdrawnJobs: 2,
      runningSteps: 0,
    });
    for (const stepId of ['a', 'b']) {
      expect(await h.queue(queueNames.step).getJob(jobIds.step(runId, stepId))).toBeUndefined();
    }
  });
});

describe('approvals bound to the reviewed plan, with expiry', () => {
  it('refuses an approval for another plan hash: the run keeps waiting, nothing is enqueued', async () => {
    const { runId, planHash } = await seedPlannedRun(h.repos, diamond, { dryRun: true });
    const stale = 'f'.repeat(64);
    await expect(approveRun(h.deps, decision(runId, stale))).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('the plan changed since it was reviewed') as string,
      details: { approvedHash: stale, currentHash: planHash },
    });
    expect((await h.repos.runs.get(runId))?.state).toBe('awaiting_approval');
    expect(await h.queue(queueNames.step).getJob(jobIds.step(runId, 'a'))).toBeUndefined();
    expect(await h.repos.audit.list({ targetId: runId })).toEqual([]);
    // The reviewed plan's hash is accepted, and the decision is kept on the run.
    await approveRun(h.deps, decision(runId, planHash));
    expect((await h.repos.runs.get(runId))?.approval).toMatchObject({
      decision: { verdict: 'approved', actor: 'ops@acme', reason: 'looked fine', planHash },
    });
  });

  it('rejects a run whose approval request expired, on approval and by the sweep', async () => {
    const expiresAt = new Date(Date.now() - 1_000);
    const late = await parkWithExpiry(expiresAt);
    await expect(approveRun(h.deps, decision(late.runId, late.planHash))).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { expired: true },
    });
    expect(await h.repos.runs.get(late.runId)).toMatchObject({
      state: 'rejected',
      error: { code: 'POLICY_DENIED', message: expect.stringContaining('expired') as string },
      approval: { decision: { verdict: 'expired', actor: 'agentry' } },
    });

    const swept = await parkWithExpiry(expiresAt);
    const open = await parkWithExpiry(new Date(Date.now() + 60_000));
    expect(await expireApprovals(h.deps)).toBeGreaterThanOrEqual(1);
    expect((await h.repos.runs.get(swept.runId))?.state).toBe('rejected');
    expect((await h.repos.runs.get(open.runId))?.state).toBe('awaiting_approval');
    expect((await h.repos.audit.list({ targetId: swept.runId })).map((a) => a.action)).toEqual([
      'run.expire',
    ]);
  });
});

/** A dry run whose approval request expires at `expiresAt`. */
async function parkWithExpiry(expiresAt: Date) {
  const seeded = await seedPlannedRun(h.repos, diamond, { dryRun: true });
  await h.database.db
    .updateTable('runs')
    .set({
      approvalExpiresAt: expiresAt,
      approval: toJson({
        kind: 'dry-run' as const,
        reasons: ['dry run'],
        planHash: seeded.planHash,
        requestedAt: new Date().toISOString(),
        expiresAt: expiresAt.toISOString(),
      }),
    })
    .where('id', '=', seeded.runId)
    .execute();
  return seeded;
}
