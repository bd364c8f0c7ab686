import { dispatchSteps } from '@agentry/engine';
import { jobIds } from '@agentry/schema';
import { describe, expect, it } from 'vitest';
import { runReaches, startRun, waitFor, useRunningExecutor } from './support';

const t = useRunningExecutor('exec-run');

describe('executor: running plans', () => {
  it('runs every step exactly once, d only after b and c, and the run succeeds', async () => {
    const { runId, correlationId } = await startRun(t.fleet, [
      { id: 'a', tool: 'rec' },
      { id: 'b', tool: 'rec', dependsOn: ['a'], input: { ms: 150 } },
      { id: 'c', tool: 'rec', dependsOn: ['a'], input: { ms: 100 } },
      { id: 'd', tool: 'rec', dependsOn: ['b', 'c'] },
    ]);
    const detail = await runReaches(t.fleet, runId, 'succeeded');
    expect(detail.steps.map((s) => [s.stepId, s.state, s.attempts, s.output])).toEqual([
      ['a', 'succeeded', 1, { stepId: 'a' }],
      ['b', 'succeeded', 1, { stepId: 'b' }],
      ['c', 'succeeded', 1, { stepId: 'c' }],
      ['d', 'succeeded', 1, { stepId: 'd' }],
    ]);
    for (const step of detail.steps)
      expect(step.attemptHistory.map((a) => [a.attempt, a.outcome])).toEqual([[1, 'succeeded']]);
    expect(t.rec.calls.map((c) => c.stepId).sort()).toEqual(['a', 'b', 'c', 'd']);

    const [b, c, d] = ['b', 'c', 'd'].map((id) => t.rec.ranOf(id)[0]);
    // b and c ran side by side; d started after both had finished.
    expect(Math.max(b?.startedAt ?? 0, c?.startedAt ?? 0)).toBeLessThan(
      Math.min(b?.finishedAt ?? 0, c?.finishedAt ?? 0),
    );
    expect(d?.startedAt).toBeGreaterThanOrEqual(
      Math.max(b?.finishedAt ?? Infinity, c?.finishedAt ?? Infinity),
    );
    // Nothing to undo after a success.
    expect(t.rec.compensations).toEqual([]);

    // Every line the executor wrote about this run carries its correlation id.
    const lines = t.fleet.logs.filter((l) => l.runId === runId);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((l) => l.correlationId !== correlationId)).toEqual([]);
  });

  it('does not run a step again when its job is enqueued anew after the completed one was removed', async () => {
    const { runId, correlationId, rootStepIds } = await startRun(t.fleet, [
      { id: 'solo', tool: 'rec' },
    ]);
    await runReaches(t.fleet, runId, 'succeeded');
    const queue = t.fleet.queue('agentry.step');
    const jobId = jobIds.step(runId, 'solo');
    await waitFor(
      async () => (await queue.getJob(jobId))?.finishedOn !== undefined,
      5_000,
      'job done',
    );
    await queue.remove(jobId);
    expect(
      await dispatchSteps(t.fleet.services.engine, { id: runId, correlationId }, rootStepIds),
    ).toBe(1);
    await waitFor(
      async () => (await queue.getJob(jobId))?.finishedOn !== undefined,
      5_000,
      'job done',
    );
    expect((await queue.getJob(jobId))?.returnvalue).toEqual({
      outcome: 'skipped',
      reason: 'already-succeeded',
    });
    expect(t.rec.ranOf('solo')).toHaveLength(1);
    expect((await t.fleet.repos.steps.get(runId, 'solo'))?.attempts).toBe(1);
  });
});
