import { randomUUID } from 'node:crypto';
import { Intent, jobIds } from '@agentry/schema';
import { finishJob } from '@agentry/queue/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchSteps, reconcile } from '../src';
import { openEngineHarness, queueNames, seedPlannedRun, type EngineHarness } from './support';

let h: EngineHarness;
beforeAll(async () => void (h = await openEngineHarness()));
afterAll(() => h.close());

const inAMinute = () => new Date(Date.now() + 60_000);

describe('dispatchSteps', () => {
  it('enqueues each queued step once with its own maxAttempts and returns the count created', async () => {
    const { runId, correlationId, rootStepIds } = await seedPlannedRun(h.repos, [
      { id: 'a', tool: 'echo', maxAttempts: 4 },
      { id: 'b', tool: 'echo', maxAttempts: 1 },
      { id: 'c', tool: 'echo', dependsOn: ['a', 'b'] },
    ]);
    expect(rootStepIds).toEqual(['a', 'b']);
    expect(await dispatchSteps(h.deps, { id: runId, correlationId }, rootStepIds)).toBe(2);
    expect(await dispatchSteps(h.deps, { id: runId, correlationId }, rootStepIds)).toBe(0);
    const a = await h.queue(queueNames.step).getJob(jobIds.step(runId, 'a'));
    const b = await h.queue(queueNames.step).getJob(jobIds.step(runId, 'b'));
    expect([a?.opts.attempts, b?.opts.attempts]).toEqual([4, 1]);
    await expect(
      dispatchSteps(h.deps, { id: runId, correlationId }, ['nope']),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('reconcile', () => {
  it('repairs a crash between commit and enqueue, once; recent runs are left alone', async () => {
    // A pending run whose plan job never made it to Redis.
    const pendingId = randomUUID();
    const intent = Intent.parse({ text: 'echo 1 step', tenantId: 'acme' });
    await h.repos.runs.create({
      id: pendingId,
      tenantId: 'acme',
      correlationId: 'corr-pending',
      dryRun: false,
      intent,
      planJobId: jobIds.plan(pendingId),
    });
    // A running run whose queued roots were committed but never enqueued.
    const running = await seedPlannedRun(h.repos, [
      { id: 'x', tool: 'echo' },
      { id: 'y', tool: 'echo' },
      { id: 'z', tool: 'echo', dependsOn: ['x'] },
    ]);

    // Nothing is old enough yet.
    expect(await reconcile(h.deps, { olderThanMs: 30_000 })).toEqual({
      planJobsEnqueued: 0,
      stepsDispatched: 0,
      failed: 0,
    });

    const later = { ...h.deps, clock: inAMinute };
    expect(await reconcile(later, { olderThanMs: 30_000 })).toEqual({
      planJobsEnqueued: 1,
      stepsDispatched: 2,
      failed: 0,
    });
    const planJob = await h.queue(queueNames.plan).getJob(jobIds.plan(pendingId));
    expect(planJob?.data).toEqual({ intent, runId: pendingId, correlationId: 'corr-pending' });
    const stepJob = await h.queue(queueNames.step).getJob(jobIds.step(running.runId, 'y'));
    expect(stepJob?.data).toEqual({
      runId: running.runId,
      stepId: 'y',
      correlationId: running.correlationId,
      tenantId: 'acme',
    });
    expect(
      (await h.queue(queueNames.step).getJob(jobIds.step(running.runId, 'z')))?.id,
    ).toBeUndefined();
    const repaired = h.deps.log.lines.filter((l) => l.msg === 'reconciler repaired runs');
    expect(repaired.map((l) => l.obj.runs)).toEqual([
      [
        { runId: pendingId, correlationId: 'corr-pending' },
        { runId: running.runId, correlationId: running.correlationId },
      ],
    ]);

    // A second pass (or another planner) finds nothing to do.
    expect(await reconcile(later, { olderThanMs: 30_000 })).toEqual({
      planJobsEnqueued: 0,
      stepsDispatched: 0,
      failed: 0,
    });
  });
  it('replaces a finished plan job of a run the database still has pending', async () => {
    // The planner finished the plan job (one completed, one failed), but neither outcome reached
    // the database: a commit lost with a failed-over Postgres. BullMQ keeps the finished jobs.
    const runs = [];
    for (const outcome of ['completed', 'failed'] as const) {
      const runId = randomUUID();
      const intent = Intent.parse({ text: 'echo 1 step', tenantId: 'acme' });
      await h.repos.runs.create({
        id: runId,
        tenantId: 'acme',
        correlationId: `corr-${outcome}`,
        dryRun: false,
        intent,
        planJobId: jobIds.plan(runId),
      });
      const queue = h.queue(queueNames.plan);
      // At the head of the queue (earlier tests left jobs waiting), to be taken next.
      await queue.add('plan', { runId }, { jobId: jobIds.plan(runId), lifo: true });
      await finishJob(queue, jobIds.plan(runId), outcome);
      expect(await queue.getJobState(jobIds.plan(runId))).toBe(outcome);
      runs.push({ runId, intent, outcome });
    }

    const later = { ...h.deps, clock: () => new Date(Date.now() + 180_000) };
    const report = await reconcile(later, { olderThanMs: 30_000 });
    expect(report.planJobsEnqueued).toBeGreaterThanOrEqual(2);
    for (const { runId, intent, outcome } of runs) {
      const queue = h.queue(queueNames.plan);
      expect(await queue.getJobState(jobIds.plan(runId)), outcome).toBe('waiting');
      const job = await queue.getJob(jobIds.plan(runId));
      expect(job?.data).toEqual({ intent, runId, correlationId: `corr-${outcome}` });
    }
    // Waiting now: the next pass leaves it alone.
    const again = await reconcile(later, { olderThanMs: 30_000 });
    expect(again.planJobsEnqueued).toBe(0);
  });

  it('repairs the other runs when one cannot be: the broken one is logged and tried again', async () => {
    // A pending run whose stored intent today's schema refuses (an older version wrote it).
    const brokenId = randomUUID();
    await h.repos.runs.create({
      id: brokenId,
      tenantId: 'acme',
      correlationId: 'corr-broken',
      dryRun: false,
      intent: { ...Intent.parse({ text: 'echo 1 step', tenantId: 'acme' }), text: '' },
      planJobId: jobIds.plan(brokenId),
    });
    const fineId = randomUUID();
    await h.repos.runs.create({
      id: fineId,
      tenantId: 'acme',
      correlationId: 'corr-fine',
      dryRun: false,
      intent: Intent.parse({ text: 'echo 2 steps', tenantId: 'acme' }),
      planJobId: jobIds.plan(fineId),
    });
    const inTwoMinutes = () => new Date(Date.now() + 120_000);
    const report = await reconcile({ ...h.deps, clock: inTwoMinutes }, { olderThanMs: 30_000 });
    expect(report).toMatchObject({ planJobsEnqueued: 1, failed: 1 });
    expect((await h.queue(queueNames.plan).getJob(jobIds.plan(fineId)))?.id).toBe(
      jobIds.plan(fineId),
    );
    const failed = h.deps.log.lines.find((l) => l.msg.startsWith('reconciler could not repair'));
    expect(failed?.obj.runs).toEqual([
      { runId: brokenId, code: 'VALIDATION', reason: expect.stringMatching(/^plan: /) },
    ]);
  });
});
