import { jobIds } from '@agentry/schema';
import { describe, expect, it } from 'vitest';
import { deadLettersOnce, runReaches, startRun, waitFor, useRunningExecutor } from './support';

const t = useRunningExecutor('exec-fatal');

describe('executor: fatal failures', () => {
  it('dead-letters a fatal error after one attempt and compensates what completed', async () => {
    const { runId } = await startRun(t.fleet, [
      { id: 'a', tool: 'rec' },
      { id: 'b', tool: 'echo', dependsOn: ['a'], input: { fail: 'fatal' }, maxAttempts: 3 },
    ]);
    const detail = await runReaches(t.fleet, runId, 'failed');
    expect(detail.steps[1]).toMatchObject({ stepId: 'b', state: 'failed', attempts: 1 });
    expect(await deadLettersOnce(t.fleet, runId)).toEqual([
      expect.objectContaining({ stepId: 'b', errorCode: 'TOOL_FAILED', attempts: 1 }),
    ]);
    const job = () => t.fleet.queue('agentry.step').getJob(jobIds.step(runId, 'b'));
    // The dead letter is stored before BullMQ records the failure: wait for the latter.
    await waitFor(async () => (await (await job())?.getState()) === 'failed', 5_000, 'job failed');
    expect((await job())?.attemptsMade).toBe(1);
    await waitFor(() => t.rec.compensations.includes('a'), 5_000, 'compensation of a');
  });

  it('enqueues no compensate job when nothing had completed', async () => {
    const { runId } = await startRun(t.fleet, [
      { id: 'only', tool: 'echo', input: { fail: 'fatal' } },
    ]);
    await runReaches(t.fleet, runId, 'failed');
    await deadLettersOnce(t.fleet, runId);
    expect(
      (await t.fleet.queue('agentry.step').getJob(jobIds.compensate(runId)))?.id,
    ).toBeUndefined();
  });
});
