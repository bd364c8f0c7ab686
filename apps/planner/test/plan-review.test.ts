import { randomUUID } from 'node:crypto';
import { Intent, jobIds, type IntentInput } from '@agentry/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlePlanJob, type PlanJobDeps } from '../src';
import { openTestFleet, planCtx, planJobDeps, type TestFleet } from './support';

let fleet: TestFleet;
beforeAll(async () => {
  fleet = await openTestFleet('plan-review');
});
afterAll(() => fleet.close());

/** Plan `text` as the planner does; the stored run, plan and review. */
async function plan(deps: PlanJobDeps, text: string, extra: Partial<IntentInput> = {}) {
  const runId = randomUUID();
  await fleet.repos.runs.create({
    id: runId,
    tenantId: 'acme',
    correlationId: runId,
    dryRun: extra.dryRun ?? false,
    intent: Intent.parse({ text, tenantId: 'acme', ...extra }),
  });
  const intent = Intent.parse({ text, tenantId: 'acme', ...extra });
  const result = await handlePlanJob(
    deps,
    { intent, runId, correlationId: runId },
    planCtx(fleet, jobIds.plan(runId)),
  );
  const detail = await fleet.repos.runs.detail(runId);
  if (!detail?.plan?.review) throw new Error('no review stored');
  return { result, run: detail.run, plan: detail.plan, review: detail.plan.review };
}

describe('plan reviews and the approval policy', () => {
  it('reviews every plan: steps in order with estimates, duration on the longest chain, risk with reasons', async () => {
    const {
      result,
      review,
      plan: stored,
    } = await plan(planJobDeps(fleet), 'deploy build 812 to staging and post the result to #ops');
    expect(result).toMatchObject({ state: 'running' });
    expect(review).toMatchObject({
      version: 1,
      planHash: stored.hash,
      estimatedDurationMs: 1 + 50 + 1 + 1,
      estimatedCost: { planningUsd: 0, stepsUsd: 0, totalUsd: 0, unpricedModels: [] },
      risk: { level: 'medium', reasons: ['step "rollout" (wait) is medium risk'] },
      approval: { required: false, reasons: [] },
    });
    expect(
      review.steps.map((s) => [s.stepId, s.tool, s.risk, s.estimatedMs, s.durationBasis]),
    ).toEqual([
      ['prepare', 'echo', 'low', 1, 'tool-estimate'],
      ['rollout', 'wait', 'medium', 50, 'tool-estimate'],
      ['verify', 'echo', 'low', 1, 'tool-estimate'],
      ['notify', 'echo', 'low', 1, 'tool-estimate'],
    ]);
  });

  it('parks a plan at or above the policy risk, with the reasons and an expiry, bound to the plan', async () => {
    const before = Date.now();
    const {
      result,
      run,
      review,
      plan: stored,
    } = await plan(planJobDeps(fleet, [], { ttlMs: 3_600_000 }), 'deploy build 9 to production');
    expect(result).toMatchObject({ state: 'awaiting_approval' });
    expect(review.risk.level).toBe('high');
    expect(run.approval).toMatchObject({
      kind: 'policy',
      planHash: stored.hash,
      reasons: ['risk is high (policy: approve at high or above)'],
    });
    const expires = Date.parse(run.approval?.expiresAt ?? '');
    expect(expires).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(run.approvalExpiresAt?.getTime()).toBe(expires);
    // With the rule off, the same plan runs at once.
    const off = await plan(
      planJobDeps(fleet, [], { riskAt: 'never' }),
      'deploy build 9 to production',
    );
    expect(off.result).toMatchObject({ state: 'running' });
    expect(off.run.approval).toBeNull();
  });

  it('asks for approval above the cost threshold and for must-approve tools, and for every dry run', async () => {
    const priced: PlanJobDeps = {
      ...planJobDeps(fleet, [], { costAboveUsd: 0.5, tools: ['wait'] }),
    };
    priced.review = {
      ...priced.review,
      pricing: { prices: { models: {}, tools: { echo: { perCallUsd: 0.3 } } }, model: undefined },
    };
    const costly = await plan(priced, 'echo 2 steps');
    expect(costly.review.estimatedCost).toMatchObject({ stepsUsd: 0.6, totalUsd: 0.6 });
    expect(costly.run.approval?.reasons).toEqual(['estimated cost $0.60 is above $0.50 (policy)']);
    const waiting = await plan(priced, 'wait 2 s');
    expect(waiting.review.estimatedDurationMs).toBe(2_000);
    expect(waiting.run.approval?.reasons).toEqual([
      'step "wait" uses wait, which policy says must be approved',
    ]);
    const dry = await plan(planJobDeps(fleet), 'echo 1 step', { dryRun: true });
    expect(dry.run.approval).toMatchObject({
      kind: 'dry-run',
      reasons: ['dry run: nothing runs until the plan is approved'],
    });
  });

  it('estimates from history once a tool has enough successful attempts (their median)', async () => {
    const deps = planJobDeps(fleet);
    const seeded = await plan(deps, 'echo 1 step');
    for (const [i, ms] of [10, 20, 30, 40, 500].entries()) {
      await fleet.services.database.db
        .insertInto('stepAttempts')
        .values({
          runId: seeded.run.id,
          stepId: seeded.review.steps[0]?.stepId ?? '',
          attempt: i + 1,
          jobId: `j${i}`,
          worker: 'w',
          outcome: 'succeeded',
          finishedAt: new Date(),
          durationMs: ms,
        })
        .execute();
    }
    const { review } = await plan(deps, 'echo 1 step');
    expect(review.steps[0]).toMatchObject({
      tool: 'echo',
      estimatedMs: 30,
      durationBasis: 'observed-p50',
      samples: 5,
    });
  });
});
