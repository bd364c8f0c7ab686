import { randomUUID } from 'node:crypto';
import { Intent, jobIds, type IntentInput } from '@agentry/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlePlanJob } from '../src';
import { openTestFleet, planCtx, planJobDeps, type TestFleet } from './support';

let fleet: TestFleet;
beforeAll(async () => {
  fleet = await openTestFleet('conv-planning');
});
afterAll(() => fleet.close());

/** Record and plan an intent of the conversation, as submit and the planner do. */
async function turn(text: string, conversationId: string, extra: Partial<IntentInput> = {}) {
  const intent = Intent.parse({ text, tenantId: 'acme', conversationId, ...extra });
  const runId = randomUUID();
  await fleet.repos.runs.create({
    id: runId,
    tenantId: 'acme',
    conversationId,
    correlationId: runId,
    dryRun: false,
    intent,
  });
  const planned = handlePlanJob(
    planJobDeps(fleet),
    { intent, runId, correlationId: runId },
    planCtx(fleet, jobIds.plan(runId)),
  );
  return { runId, planned };
}

/** Complete a run's step with `output`, as the executor would. */
async function complete(runId: string, stepId: string, output: unknown) {
  const claim = await fleet.repos.steps.startAttempt(runId, stepId, {
    attempt: 1,
    jobId: `${runId}.${stepId}`,
    worker: 'w',
  });
  if (claim.kind !== 'run') throw new Error(`step ${stepId} not runnable: ${claim.reason}`);
  await fleet.repos.steps.complete(runId, stepId, claim.attemptId, output);
}

describe('conversation variables in template planning', () => {
  it("fills a follow-up intent with an earlier turn's output before the templates match it", async () => {
    const conversation = `conv-${randomUUID().slice(0, 8)}`;
    const first = await turn('echo 1 step', conversation);
    await first.planned;
    await complete(first.runId, 's1', { message: 'done', url: 'https://status.example.com/812' });

    const second = await turn('check {{prev.s1.url}}', conversation);
    await expect(second.planned).resolves.toMatchObject({ producedBy: 'template:http-check' });
    const detail = await fleet.repos.runs.detail(second.runId);
    expect(detail?.run.turn).toBe(2);
    expect(detail?.steps[0]).toMatchObject({
      tool: 'http.request',
      input: { url: 'https://status.example.com/812', method: 'GET' },
    });
  });

  it('refuses a variable no earlier turn has, naming it', async () => {
    const conversation = `conv-${randomUUID().slice(0, 8)}`;
    await (
      await turn('echo 1 step', conversation)
    ).planned;
    const { planned } = await turn('check {{prev.nope.url}}', conversation);
    await expect(planned).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringContaining('{{prev.nope.url}}') as string,
    });
  });
});
