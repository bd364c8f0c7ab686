import { cancelRun } from '@agentry/engine';
import { jobIds } from '@agentry/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleCompensateJob, handleStepJob } from '../src';
import {
  jobCtx,
  openTestFleet,
  recordingTool,
  startRun,
  stepJobDeps,
  testTools,
  type TestFleet,
} from './support';

let fleet: TestFleet;
let deps: ReturnType<typeof stepJobDeps>;
const rec = recordingTool();
beforeAll(async () => {
  fleet = await openTestFleet('exec-step');
  deps = stepJobDeps(fleet, testTools(rec));
});
afterAll(() => fleet.close());

const payloadOf = (run: { runId: string; correlationId: string }, stepId: string) => ({
  runId: run.runId,
  stepId,
  correlationId: run.correlationId,
});

describe('handleStepJob', () => {
  it('does not run a re-delivered step that already succeeded', async () => {
    const run = await startRun(fleet, [{ id: 'once', tool: 'rec' }]);
    const jobId = jobIds.step(run.runId, 'once');
    const first = await handleStepJob(deps, payloadOf(run, 'once'), jobCtx(fleet, jobId));
    expect(first).toEqual({ outcome: 'succeeded', readySteps: [], runSucceeded: true });
    const again = await handleStepJob(deps, payloadOf(run, 'once'), jobCtx(fleet, jobId, 2));
    expect(again).toEqual({ outcome: 'skipped', reason: 'already-succeeded' });
    expect(rec.ranOf('once')).toHaveLength(1);
    const [step] = (await fleet.repos.runs.detail(run.runId))?.steps ?? [];
    expect(step).toMatchObject({ attempts: 1, state: 'succeeded' });
    expect(step?.attemptHistory).toHaveLength(1);
  });

  it('skips a queued step of a cancelled run (run-not-running) without calling its tool', async () => {
    const run = await startRun(fleet, [{ id: 'late', tool: 'rec' }]);
    await cancelRun(fleet.services.engine, { runId: run.runId, actor: 'ops' });
    const result = await handleStepJob(
      deps,
      payloadOf(run, 'late'),
      jobCtx(fleet, jobIds.step(run.runId, 'late')),
    );
    expect(result).toEqual({ outcome: 'skipped', reason: 'run-not-running' });
    expect(rec.ranOf('late')).toEqual([]);
    expect((await fleet.repos.steps.get(run.runId, 'late'))?.attempts).toBe(0);
  });

  it('compensates a step that finished after a sibling failed the run', async () => {
    const run = await startRun(fleet, [
      { id: 'slow', tool: 'rec', input: { ms: 300 } },
      { id: 'boom', tool: 'rec', input: { fail: 'fatal' } },
    ]);
    const slow = handleStepJob(
      deps,
      payloadOf(run, 'slow'),
      jobCtx(fleet, jobIds.step(run.runId, 'slow')),
    );
    await expect(
      handleStepJob(deps, payloadOf(run, 'boom'), jobCtx(fleet, jobIds.step(run.runId, 'boom'))),
    ).rejects.toMatchObject({ code: 'TOOL_FAILED', retryable: false });
    expect((await fleet.repos.runs.get(run.runId))?.state).toBe('failed');
    // Nothing had succeeded when the run failed: no compensate job for the run.
    const stepQueue = fleet.queue('agentry.step');
    expect((await stepQueue.getJob(jobIds.compensate(run.runId)))?.id).toBeUndefined();

    expect(await slow).toMatchObject({ outcome: 'succeeded', runSucceeded: false });
    const job = await stepQueue.getJob(`${jobIds.compensate(run.runId)}.slow`);
    expect(job?.data).toMatchObject({ runId: run.runId, correlationId: run.correlationId });
    const undone = await handleCompensateJob(deps, job?.data, jobCtx(fleet, job?.id ?? ''));
    expect(undone).toEqual({ compensated: ['slow'], withoutCompensation: [] });
    expect(rec.compensations).toEqual(['slow']);
  });
});
