import { jobIds } from '@agentry/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, type ExecutorApp } from '../src';
import {
  deadLettersOnce,
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
  fleet = await openTestFleet('exec-fatal');
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

describe('executor: fatal failures', () => {
  it('dead-letters a fatal error after one attempt and compensates what completed', async () => {
    const { runId } = await startRun(fleet, [
      { id: 'a', tool: 'rec' },
      { id: 'b', tool: 'echo', dependsOn: ['a'], input: { fail: 'fatal' }, maxAttempts: 3 },
    ]);
    const detail = await runReaches(fleet, runId, 'failed');
    expect(detail.steps[1]).toMatchObject({ stepId: 'b', state: 'failed', attempts: 1 });
    expect(await deadLettersOnce(fleet, runId)).toEqual([
      expect.objectContaining({ stepId: 'b', errorCode: 'TOOL_FAILED', attempts: 1 }),
    ]);
    const job = () => fleet.queue('agentry.step').getJob(jobIds.step(runId, 'b'));
    // The dead letter is stored before BullMQ records the failure: wait for the latter.
    await waitFor(async () => (await (await job())?.getState()) === 'failed', 5_000, 'job failed');
    expect((await job())?.attemptsMade).toBe(1);
    await waitFor(() => rec.compensations.includes('a'), 5_000, 'compensation of a');
  });

  it('enqueues no compensate job when nothing had completed', async () => {
    const { runId } = await startRun(fleet, [
      { id: 'only', tool: 'echo', input: { fail: 'fatal' } },
    ]);
    await runReaches(fleet, runId, 'failed');
    await deadLettersOnce(fleet, runId);
    expect(
      (await fleet.queue('agentry.step').getJob(jobIds.compensate(runId)))?.id,
    ).toBeUndefined();
  });
});
