import { dispatchSteps } from '@agentry/engine';
import { seedPlannedRun, testRedisUrl } from '@agentry/engine/testing';
import { jobIds, queueNames } from '@agentry/schema';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, type ExecutorApp } from '../src';
import {
  deadLettersOf,
  executorConfig,
  openTestFleet,
  recordingTool,
  runReaches,
  testTools,
  waitFor,
  type TestFleet,
} from './support';

let fleet: TestFleet;
let executor: ExecutorApp | undefined;
const rec = recordingTool();
beforeAll(async () => void (fleet = await openTestFleet('exec-stall')));
afterAll(async () => {
  await executor?.close({ deadlineMs: 2_000 });
  await fleet.close();
});

describe('executor: a step whose worker keeps dying', () => {
  it('is dead-lettered once stalled out; the run fails and its completed steps are compensated', async () => {
    const { runId, correlationId } = await seedPlannedRun(fleet.repos, [
      { id: 'done', tool: 'rec' },
      { id: 'doomed', tool: 'rec' },
    ]);
    const claim = await fleet.repos.steps.startAttempt(runId, 'done', {
      attempt: 1,
      jobId: 'j',
      worker: 'w',
    });
    if (claim.kind !== 'run') throw new Error('step done should be runnable');
    await fleet.repos.steps.complete(runId, 'done', claim.attemptId, { stepId: 'done' });
    await dispatchSteps(fleet.services.engine, { id: runId, correlationId }, ['doomed']);
    const jobId = jobIds.step(runId, 'doomed');
    const queue = fleet.queue(queueNames.step);

    // A worker that takes the job and dies each time: it never renews the lock nor finishes.
    const dying = new Worker(queueNames.step, null, {
      connection: { url: testRedisUrl },
      prefix: fleet.services.prefix,
      lockDuration: 300,
      stalledInterval: 150,
      maxStalledCount: 1,
      autorun: false,
    });
    try {
      await dying.startStalledCheckTimer();
      for (const death of [1, 2]) {
        const taken = await dying.getNextJob(`dying-${death}`, { block: false });
        expect(taken?.id).toBe(jobId);
        await waitFor(
          async () => (await queue.getJobState(jobId)) === 'waiting',
          5_000,
          `stall ${death}`,
        );
      }
    } finally {
      await dying.close();
    }
    expect(rec.ranOf('doomed')).toEqual([]);

    executor = await createExecutor(executorConfig(fleet), {
      services: fleet.services,
      health: false,
      tools: testTools(rec),
    });
    await executor.start();
    const detail = await runReaches(fleet, runId, 'failed');
    expect(detail.run.error).toMatchObject({ message: 'job stalled more than allowable limit' });
    expect(detail.steps.find((s) => s.stepId === 'doomed')?.state).toBe('failed');
    expect(await deadLettersOf(fleet, runId)).toEqual([
      expect.objectContaining({
        jobId,
        stepId: 'doomed',
        correlationId,
        reason: 'job stalled more than allowable limit',
      }),
    ]);
    await waitFor(() => rec.compensations.includes('done'), 5_000, 'compensation');
    expect(rec.ranOf('doomed')).toEqual([]);
  });
});
