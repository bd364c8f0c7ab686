import { cancelRun } from '@agentry/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, type ExecutorApp } from '../src';
import {
  executorConfig,
  openTestFleet,
  recordingTool,
  runReaches,
  startRun,
  testTools,
  waitFor,
  type TestFleet,
} from './support';

let fleet: TestFleet;
let executor: ExecutorApp;
const rec = recordingTool();
beforeAll(async () => {
  fleet = await openTestFleet('exec-cancel');
  executor = await createExecutor(executorConfig(fleet), {
    services: fleet.services,
    health: false,
    tools: testTools(rec),
  });
  await executor.start();
});
afterAll(async () => {
  await executor.close({ deadlineMs: 2_000 });
  await fleet.close();
});

describe('executor: a run cancelled while a step is in flight', () => {
  it('lets the step finish, keeps its result, runs nothing after it and compensates it', async () => {
    const { runId } = await startRun(fleet, [
      { id: 'slow', tool: 'rec', input: { ms: 600 } },
      { id: 'after', tool: 'rec', dependsOn: ['slow'] },
    ]);
    await waitFor(() => rec.ranOf('slow').length === 1, 5_000, 'slow started');
    await cancelRun(fleet.services.engine, { runId, actor: 'test', reason: 'changed my mind' });

    await waitFor(() => rec.compensations.includes('slow'), 5_000, 'slow compensated');
    const detail = await runReaches(fleet, runId, 'cancelled');
    const slow = detail.steps.find((s) => s.stepId === 'slow');
    expect(slow).toMatchObject({ state: 'compensated', output: { stepId: 'slow' } });
    expect(slow?.attemptHistory.map((a) => a.outcome)).toEqual(['succeeded']);
    expect(detail.steps.find((s) => s.stepId === 'after')?.state).toBe('cancelled');
    expect(rec.ranOf('after')).toEqual([]);
  });
});
