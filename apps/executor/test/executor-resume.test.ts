import { resumeRun } from '@agentry/engine';
import { AppError, jobIds, queueNames } from '@agentry/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createExecutor, defineTool, type ExecutorApp } from '../src';
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

/** A tool that fails for good while `broken` is set: a downstream outage an operator fixes. */
const outage = { broken: true };
const flaky = defineTool({
  name: 'flaky',
  description: 'Fails for good while the test says it is broken (tests only).',
  input: z.strictObject({}),
  output: z.object({ ok: z.literal(true) }),
  risk: 'low',
  run: () => {
    if (outage.broken)
      throw new AppError('TOOL_FAILED', 'downstream is down', { retryable: false });
    return Promise.resolve({ ok: true as const });
  },
});

let fleet: TestFleet;
let executor: ExecutorApp;
const rec = recordingTool();
beforeAll(async () => {
  fleet = await openTestFleet('exec-resume');
  executor = await createExecutor(executorConfig(fleet), {
    services: fleet.services,
    health: false,
    tools: [...testTools(rec), flaky],
  });
  await executor.start();
});
afterAll(async () => {
  await executor.close({ deadlineMs: 2_000 });
  await fleet.close();
});

const plan = [
  { id: 'a', tool: 'rec' },
  { id: 'b', tool: 'flaky', dependsOn: ['a'] },
  { id: 'c', tool: 'rec', dependsOn: ['b'] },
];

/** A run that failed at `b` (dead-lettered), with `a` compensated. */
async function failedAtB() {
  outage.broken = true;
  const { runId, correlationId } = await startRun(fleet, plan);
  await runReaches(fleet, runId, 'failed');
  const [letter] = await deadLettersOnce(fleet, runId);
  await waitFor(
    async () => (await fleet.repos.steps.get(runId, 'a'))?.state === 'compensated',
    5_000,
    'a compensated',
  );
  return { runId, correlationId, letter };
}

describe('resuming a failed run from its dead-lettered step', () => {
  it('replaying the dead letter runs the undone step, the failed one and the rest: the run succeeds', async () => {
    const { runId, letter } = await failedAtB();
    outage.broken = false;
    const resumed = await resumeRun(fleet.services.engine, {
      runId,
      stepId: 'b',
      actor: 'oncall',
      reason: 'downstream fixed',
    });
    expect(resumed).toMatchObject({ state: 'running', queued: ['a'], deadLetterId: letter?.id });
    const done = await runReaches(fleet, runId, 'succeeded');
    expect(done.steps.map((s) => [s.stepId, s.state])).toEqual([
      ['a', 'succeeded'],
      ['b', 'succeeded'],
      ['c', 'succeeded'],
    ]);
    expect(rec.ranOf('a').filter((c) => c.finishedAt)).toHaveLength(2);
    expect((await fleet.repos.deadLetters.get(letter?.id ?? ''))?.replayedAt).toBeInstanceOf(Date);
    const audit = await fleet.repos.audit.list({ targetId: runId });
    expect(audit.map((a) => [a.action, a.actor])).toContainEqual(['run.resume', 'oncall']);
  });

  it('a retry of the failed job itself (Bull Board) resumes the run too', async () => {
    const { runId } = await failedAtB();
    outage.broken = false;
    const job = await fleet.queue(queueNames.step).getJob(jobIds.step(runId, 'b'));
    // The run is failed (and dead-lettered) before BullMQ records the job's failure: by design
    // the capture runs first, so a crash in between redelivers the job. Wait for BullMQ.
    for (let i = 0; i < 100 && (await job?.getState()) === 'active'; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await job?.getState()).toBe('failed');
    await job?.retry('failed', { resetAttemptsMade: true });
    const done = await runReaches(fleet, runId, 'succeeded');
    expect(done.steps.every((s) => s.state === 'succeeded')).toBe(true);
  });

  it('refuses a run that did not fail at that step', async () => {
    outage.broken = false;
    const { runId } = await startRun(fleet, plan);
    await runReaches(fleet, runId, 'succeeded');
    await expect(
      resumeRun(fleet.services.engine, { runId, stepId: 'b', actor: 'x' }),
    ).rejects.toMatchObject({ code: 'CONFLICT', details: { state: 'succeeded' } });
  });
});
