import { cancelRun } from '@agentry/engine';
import { jobIds, queueNames } from '@agentry/schema';
import { describe, expect, it } from 'vitest';
import { runReaches, startRun, waitFor, useRunningExecutor } from './support';

const t = useRunningExecutor('exec-cancel');

describe('executor: a run cancelled while a step is in flight', () => {
  it('aborts the running step through its signal, compensates what completed, leaves nothing queued', async () => {
    const { runId } = await startRun(t.fleet, [
      { id: 'first', tool: 'rec' },
      { id: 'slow', tool: 'rec', input: { ms: 20_000 }, dependsOn: ['first'] },
      { id: 'after', tool: 'rec', dependsOn: ['slow'] },
    ]);
    await waitFor(() => t.rec.ranOf('slow').length === 1, 5_000, 'slow started');
    const asked = performance.now();
    const answer = await cancelRun(t.fleet.services.engine, {
      runId,
      actor: 'test',
      reason: 'changed my mind',
    });
    expect(answer).toMatchObject({ state: 'cancelled', runningSteps: 1, compensating: 1 });

    // The slow step stops long before its 20 s: its attempt and the step are cancelled.
    await waitFor(
      async () => (await t.fleet.repos.steps.get(runId, 'slow'))?.state === 'cancelled',
      5_000,
      'slow cancelled',
    );
    expect(performance.now() - asked).toBeLessThan(5_000);
    await waitFor(() => t.rec.compensations.includes('first'), 5_000, 'first compensated');
    const detail = await runReaches(t.fleet, runId, 'cancelled');
    const byId = new Map(detail.steps.map((s) => [s.stepId, s]));
    expect(byId.get('first')?.state).toBe('compensated');
    expect(byId.get('slow')?.attemptHistory.map((a) => a.outcome)).toEqual(['cancelled']);
    expect(byId.get('after')?.state).toBe('cancelled');
    expect(t.rec.ranOf('after')).toEqual([]);
    expect(t.rec.compensations).not.toContain('slow');

    // Nothing of the run is left waiting, delayed or active in the step queue.
    const queue = t.fleet.queue(queueNames.step);
    await waitFor(
      async () =>
        (await queue.getJobs(['waiting', 'delayed', 'active', 'prioritized'])).every(
          (j) => (j.data as { runId?: string }).runId !== runId,
        ),
      5_000,
      'no job of the run left',
    );
    const slowJob = await queue.getJob(jobIds.step(runId, 'slow'));
    expect(await slowJob?.getState()).toBe('completed');
  });
});
