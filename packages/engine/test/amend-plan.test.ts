import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amendRunPlan, approveRun, defaultApprovalPolicy, type AmendDeps } from '../src';
import { openEngineHarness, seedPlannedRun, type EngineHarness } from './support';

let h: EngineHarness;
let deps: AmendDeps;
beforeAll(async () => {
  h = await openEngineHarness();
  deps = {
    ...h.deps,
    knownTools: new Set(['echo', 'deploy.run']),
    review: {
      tools: (name) => ({ risk: name === 'deploy.run' ? 'high' : 'low', estimate: () => ({}) }),
      durations: () => Promise.resolve(new Map()),
      pricing: { prices: { models: {} }, model: undefined },
      policy: defaultApprovalPolicy,
    },
  };
});
afterAll(() => h.close());

const reviewed = [
  { id: 'check', tool: 'echo' },
  { id: 'ship', tool: 'deploy.run', dependsOn: ['check'] },
];

describe('amending a plan that waits for approval', () => {
  it('replaces plan and steps; an approval of the plan as reviewed before is refused', async () => {
    const { runId, planHash: before } = await seedPlannedRun(h.repos, reviewed, { dryRun: true });
    const amended = await amendRunPlan(deps, {
      runId,
      actor: 'reviewer',
      reason: 'no deploy today',
      plan: { summary: 'check only', steps: [{ id: 'check', tool: 'echo' }] },
    });
    expect(amended.planHash).not.toBe(before);
    expect(amended.review).toMatchObject({
      planHash: amended.planHash,
      risk: { level: 'low' },
      approval: { required: true, reasons: ['amended by reviewer: no deploy today'] },
    });
    const detail = await h.repos.runs.detail(runId);
    expect(detail?.plan).toMatchObject({ hash: amended.planHash, summary: 'check only' });
    expect(detail?.steps.map((s) => [s.stepId, s.state])).toEqual([['check', 'pending']]);
    expect(detail?.run.approval).toMatchObject({ kind: 'amended', planHash: amended.planHash });

    await expect(
      approveRun(deps, { runId, actor: 'approver', planHash: before }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { approvedHash: before, currentHash: amended.planHash },
    });
    await approveRun(deps, { runId, actor: 'approver', planHash: amended.planHash });
    expect((await h.repos.runs.get(runId))?.state).toBe('running');
    const audit = await h.repos.audit.list({ targetId: runId });
    expect(audit.map((a) => [a.action, a.details['planHash']]).sort()).toEqual([
      ['run.amend', amended.planHash],
      ['run.approve', amended.planHash],
    ]);
  });

  it('refuses a plan naming an unknown tool, and a run that is not waiting', async () => {
    const { runId } = await seedPlannedRun(h.repos, reviewed, { dryRun: true });
    await expect(
      amendRunPlan(deps, {
        runId,
        actor: 'r',
        plan: { summary: 'x', steps: [{ id: 'a', tool: 'rm.rf' }] },
      }),
    ).rejects.toMatchObject({ code: 'UNKNOWN_TOOL' });
    const running = await seedPlannedRun(h.repos, reviewed);
    await expect(
      amendRunPlan(deps, {
        runId: running.runId,
        actor: 'r',
        plan: { summary: 'x', steps: [{ id: 'a', tool: 'echo' }] },
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT', details: { state: 'running' } });
  });
});
