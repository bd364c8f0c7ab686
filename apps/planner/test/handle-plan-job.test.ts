import { randomUUID } from 'node:crypto';
import { Intent, jobIds, queueNames } from '@agentry/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlePlanJob, loadTemplateFile } from '../src';
import { openTestFleet, planCtx, planJobDeps, writeTemplatesFile, type TestFleet } from './support';

let fleet: TestFleet;
let deps: ReturnType<typeof planJobDeps>;
beforeAll(async () => {
  fleet = await openTestFleet('planner');
  const file = await writeTemplatesFile([
    {
      id: 'fan',
      pattern: '^fan out',
      // Listed out of order on purpose: the stored order must be topological.
      steps: [
        { id: 'd', tool: 'echo', dependsOn: ['b', 'c'] },
        { id: 'b', tool: 'echo', dependsOn: ['a'] },
        { id: 'a', tool: 'echo', maxAttempts: 4 },
        { id: 'c', tool: 'echo', dependsOn: ['a'] },
        { id: 'e', tool: 'wait', input: { ms: 1 }, maxAttempts: 1 },
      ],
    },
  ]);
  deps = planJobDeps(fleet, await loadTemplateFile(file));
});
afterAll(() => fleet.close());

const planJob = (text: string, extra: Partial<Intent> = {}) => {
  const runId = randomUUID();
  return {
    jobId: jobIds.plan(runId),
    payload: {
      intent: Intent.parse({ text, tenantId: 'acme', ...extra }),
      runId,
      correlationId: `c-${runId}`,
    },
  };
};

describe('handlePlanJob', () => {
  it('stores the plan with its steps in topological order and enqueues the roots with their maxAttempts', async () => {
    const { jobId, payload } = planJob('fan out please');
    const result = await handlePlanJob(deps, payload, planCtx(fleet, jobId));
    expect(result).toEqual({
      runId: payload.runId,
      outcome: 'planned',
      state: 'running',
      steps: 5,
      producedBy: 'template:fan',
      source: 'template',
    });
    const detail = await fleet.repos.runs.detail(payload.runId);
    expect(detail?.run).toMatchObject({
      state: 'running',
      correlationId: payload.correlationId,
      planning: {
        hops: [{ planner: 'template', outcome: 'planned', durationMs: expect.any(Number) }],
      },
    });
    expect(detail?.plan).toMatchObject({
      producedBy: 'template:fan',
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(detail?.steps.map((s) => [s.stepId, s.state])).toEqual([
      ['a', 'queued'],
      ['e', 'queued'],
      ['b', 'pending'],
      ['c', 'pending'],
      ['d', 'pending'],
    ]);
    const step = fleet.queue(queueNames.step);
    const a = await step.getJob(jobIds.step(payload.runId, 'a'));
    const e = await step.getJob(jobIds.step(payload.runId, 'e'));
    expect([a?.opts.attempts, e?.opts.attempts]).toEqual([4, 1]);
    expect(a?.data).toEqual({
      runId: payload.runId,
      stepId: 'a',
      correlationId: payload.correlationId,
      tenantId: 'acme',
    });
    expect((await step.getJob(jobIds.step(payload.runId, 'b')))?.id).toBeUndefined();
  });

  it('parks a dry run in awaiting_approval without enqueueing any step', async () => {
    const { jobId, payload } = planJob('fan out', { dryRun: true });
    const result = await handlePlanJob(deps, payload, planCtx(fleet, jobId));
    expect(result).toMatchObject({ outcome: 'planned', state: 'awaiting_approval' });
    const detail = await fleet.repos.runs.detail(payload.runId);
    expect(detail?.steps.every((s) => s.state === 'pending')).toBe(true);
    const jobs = await fleet.queue(queueNames.step).getJobs(['wait', 'delayed', 'active']);
    expect(jobs.filter((j) => j.data.runId === payload.runId)).toEqual([]);
  });

  it('does not plan a re-delivered job twice, and re-dispatches roots whose job went missing', async () => {
    const { jobId, payload } = planJob('fan out');
    await handlePlanJob(deps, payload, planCtx(fleet, jobId));
    const planHash = (await fleet.repos.runs.detail(payload.runId))?.plan?.hash;
    // The crash: the commit happened but one root never reached Redis.
    await fleet.queue(queueNames.step).remove(jobIds.step(payload.runId, 'e'));

    const again = await handlePlanJob(deps, payload, planCtx(fleet, jobId));
    expect(again).toEqual({
      runId: payload.runId,
      outcome: 'already-planned',
      state: 'running',
      redispatched: 1,
    });
    expect(
      await fleet.queue(queueNames.step).getJob(jobIds.step(payload.runId, 'e')),
    ).toBeDefined();
    const detail = await fleet.repos.runs.detail(payload.runId);
    expect(detail?.plan?.hash).toBe(planHash);
    expect(detail?.steps).toHaveLength(5);
    // A third delivery finds nothing to repair.
    expect(await handlePlanJob(deps, payload, planCtx(fleet, jobId))).toMatchObject({
      redispatched: 0,
    });
  });

  it('answers duplicate for another job carrying a used idempotency key, creating nothing', async () => {
    const first = planJob('echo 1 step', { idempotencyKey: 'idem-1' });
    await handlePlanJob(deps, first.payload, planCtx(fleet, first.jobId));
    const second = planJob('echo 2 steps', { idempotencyKey: 'idem-1' });
    const result = await handlePlanJob(deps, second.payload, planCtx(fleet, second.jobId));
    expect(result).toEqual({
      runId: second.payload.runId,
      outcome: 'duplicate',
      of: first.payload.runId,
    });
    expect(await fleet.repos.runs.get(second.payload.runId)).toBeUndefined();
  });

  it('derives the run id from the job id for a raw plan job, with the job id as correlation id', async () => {
    const jobId = `raw-${randomUUID()}`;
    const intent = Intent.parse({ text: 'echo 1 step', tenantId: 'acme' });
    const result = await handlePlanJob(deps, { intent }, planCtx(fleet, jobId));
    expect(result.outcome).toBe('planned');
    const run = await fleet.repos.runs.get(result.runId);
    expect(run).toMatchObject({ planJobId: jobId, state: 'running' });
    const lines = fleet.logs.filter(
      (l) => l.msg === 'run planned and started' && l.runId === result.runId,
    );
    expect(lines).toEqual([expect.objectContaining({ correlationId: run?.correlationId, jobId })]);
  });
});
