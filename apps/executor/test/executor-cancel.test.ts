import { cancelRun } from '@agentry/engine';
import { describe, expect, it } from 'vitest';
import { runReaches, startRun, waitFor, useRunningExecutor } from './support';

const t = useRunningExecutor('exec-cancel');

describe('executor: a run cancelled while a step is in flight', () => {
  it('lets the step finish, keeps its result, runs nothing after it and compensates it', async () => {
    const { runId } = await startRun(t.fleet, [
      { id: 'slow', tool: 'rec', input: { ms: 600 } },
      { id: 'after', tool: 'rec', dependsOn: ['slow'] },
    ]);
    await waitFor(() => t.rec.ranOf('slow').length === 1, 5_000, 'slow started');
    await cancelRun(t.fleet.services.engine, { runId, actor: 'test', reason: 'changed my mind' });

    await waitFor(() => t.rec.compensations.includes('slow'), 5_000, 'slow compensated');
    const detail = await runReaches(t.fleet, runId, 'cancelled');
    const slow = detail.steps.find((s) => s.stepId === 'slow');
    expect(slow).toMatchObject({ state: 'compensated', output: { stepId: 'slow' } });
    expect(slow?.attemptHistory.map((a) => a.outcome)).toEqual(['succeeded']);
    expect(detail.steps.find((s) => s.stepId === 'after')?.state).toBe('cancelled');
    expect(t.rec.ranOf('after')).toEqual([]);
  });
});
