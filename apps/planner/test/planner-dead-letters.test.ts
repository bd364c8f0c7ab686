import { submitIntent } from '@agentry/engine';
import { jobIds } from '@agentry/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlanner, loadPlannerConfig, type PlannerApp } from '../src';
import { openTestFleet, waitFor, writeTemplatesFile, type TestFleet } from './support';

let fleet: TestFleet;
let planner: PlannerApp;
beforeAll(async () => {
  fleet = await openTestFleet('planner-dl');
  const templates = await writeTemplatesFile([
    { id: 'ghost', pattern: '^ghost', steps: [{ id: 'a', tool: 'ghost.tool' }] },
    {
      id: 'loop',
      pattern: '^loop',
      steps: [
        { id: 'a', tool: 'echo', dependsOn: ['b'] },
        { id: 'b', tool: 'echo', dependsOn: ['a'] },
      ],
    },
  ]);
  const config = loadPlannerConfig({ ...fleet.env, AGENTRY_PLANNER_TEMPLATES_FILE: templates });
  planner = await createPlanner(config, { services: fleet.services, health: false });
  await planner.start();
});
afterAll(async () => {
  await planner.close({ deadlineMs: 2_000 });
  await fleet.close();
});

/** Submit, then wait until the run failed and its plan job is a dead letter. */
async function failedPlan(text: string) {
  const { runId, correlationId } = await submitIntent(fleet.services.engine, {
    text,
    tenantId: 'acme',
  });
  await waitFor(
    async () => (await fleet.repos.runs.get(runId))?.state === 'failed',
    8_000,
    'run failed',
  );
  const letters = async () =>
    (await fleet.repos.deadLetters.list()).filter((l) => l.runId === runId);
  await waitFor(async () => (await letters()).length === 1, 5_000, 'dead letter');
  const [letter] = await letters();
  const getJob = () => fleet.queue('agentry.plan').getJob(jobIds.plan(runId));
  // The dead letter is stored before BullMQ records the failure: wait for the latter too.
  await waitFor(async () => (await (await getJob())?.getState()) === 'failed', 5_000, 'job failed');
  const job = await getJob();
  return { runId, correlationId, run: await fleet.repos.runs.get(runId), letter, job };
}

describe('planner: a plan that fails validation', () => {
  it('fails the run with UNKNOWN_TOOL and dead-letters the plan job after one attempt', async () => {
    const { run, letter, job, correlationId } = await failedPlan('ghost in the shell');
    expect(run?.error).toMatchObject({
      code: 'UNKNOWN_TOOL',
      message: 'plan names unknown tools: ghost.tool',
    });
    expect(letter).toMatchObject({
      sourceQueue: 'agentry.plan',
      errorCode: 'UNKNOWN_TOOL',
      attempts: 1,
      reason: 'plan names unknown tools: ghost.tool',
      correlationId,
    });
    expect(job?.attemptsMade).toBe(1);
    expect((await fleet.repos.runs.detail(run?.id ?? ''))?.plan).toBeNull();
  });

  it('fails the run with PLAN_INVALID for a cyclic template, likewise', async () => {
    const { run, letter } = await failedPlan('loop forever');
    expect(run?.error).toMatchObject({ code: 'PLAN_INVALID', message: 'plan steps form a cycle' });
    expect(letter).toMatchObject({
      errorCode: 'PLAN_INVALID',
      attempts: 1,
      reason: 'plan steps form a cycle',
    });
  });
});
