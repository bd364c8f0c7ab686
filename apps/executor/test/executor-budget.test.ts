import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approveRun, rejectRun } from '@agentry/engine';
import { describe, expect, it } from 'vitest';
import { deadLettersOf, runReaches, startRun, useRunningExecutor, waitFor } from './support';

/** A price table where every `rec` call costs $0.10. */
async function pricesFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'agentry-budget-'));
  const path = join(dir, 'prices.json');
  await writeFile(path, JSON.stringify({ models: {}, tools: { rec: { perCallUsd: 0.1 } } }));
  return path;
}
const prices = await pricesFile();

const chain = [
  { id: 'a', tool: 'rec' },
  { id: 'b', tool: 'rec', dependsOn: ['a'] },
  { id: 'c', tool: 'rec', dependsOn: ['b'] },
];

describe('a run budget, when the step that would cross it fails the run', () => {
  const t = useRunningExecutor('exec-budget', { AGENTRY_LLM_PRICES_FILE: prices });

  it('charges each call, stops before the step that would exceed it, and compensates', async () => {
    const { runId } = await startRun(t.fleet, chain, { budgetUsd: 0.25 });
    const detail = await runReaches(t.fleet, runId, 'failed');
    expect(detail.run.error).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      message: expect.stringMatching(
        /run budget \$0\.25 would be exceeded: spent \$0\.20, step "c" \(rec\) needs up to \$0\.10; it was not made/,
      ) as string,
      details: { limitUsd: 0.25, spentUsd: 0.2, neededUsd: 0.1 },
    });
    expect(detail.run.spentUsd).toBeCloseTo(0.2, 10);
    expect(t.rec.ranOf('c')).toEqual([]);
    expect(detail.steps.find((s) => s.stepId === 'c')?.attemptHistory).toEqual([
      expect.objectContaining({
        outcome: 'failed',
        error: expect.objectContaining({ code: 'BUDGET_EXCEEDED' }) as unknown,
      }),
    ]);
    await waitFor(() => t.rec.compensations.join() === 'b,a', 5_000, 'a and b compensated');
    // A budget stop is a decision, not a fault: nothing to replay, no dead letter.
    expect(await deadLettersOf(t.fleet, runId)).toEqual([]);
    const charges = await t.fleet.services.database.db
      .selectFrom('toolCharges')
      .select(['stepId', 'costUsd'])
      .where('runId', '=', runId)
      .orderBy('id')
      .execute();
    expect(charges.map((c) => [c.stepId, Number(c.costUsd)])).toEqual([
      ['a', 0.1],
      ['b', 0.1],
    ]);
  });

  it('runs a run without a budget to the end, charging every call', async () => {
    const { runId } = await startRun(t.fleet, chain);
    const detail = await runReaches(t.fleet, runId, 'succeeded');
    expect(detail.run.spentUsd).toBeCloseTo(0.3, 10);
  });
});

describe('a run budget, when policy parks the run for approval', () => {
  const t = useRunningExecutor('exec-budget-park', {
    AGENTRY_LLM_PRICES_FILE: prices,
    AGENTRY_BUDGET_EXCEEDED_ACTION: 'approve',
  });

  it('waits for a person with the step queued; approval with a higher budget runs the rest', async () => {
    const { runId, planHash } = await startRun(t.fleet, chain, { budgetUsd: 0.15 });
    const parked = await runReaches(t.fleet, runId, 'awaiting_approval');
    expect(parked.run.approval).toMatchObject({
      kind: 'budget',
      planHash,
      budget: { stepId: 'b', limitUsd: 0.15, neededUsd: 0.1 },
      reasons: [expect.stringMatching(/run budget \$0\.15 would be exceeded/) as string],
    });
    expect(parked.steps.map((s) => [s.stepId, s.state])).toEqual([
      ['a', 'succeeded'],
      ['b', 'queued'],
      ['c', 'pending'],
    ]);
    expect(t.rec.ranOf('b')).toEqual([]);

    const engine = t.fleet.services.engine;
    const decision = { runId, actor: 'finance', planHash };
    await expect(approveRun(engine, decision)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/approve it with a budget of at least \$0\.2000/) as string,
    });
    await expect(approveRun(engine, { ...decision, budgetUsd: 0.19 })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await approveRun(engine, { ...decision, budgetUsd: 0.5, reason: 'worth it' });
    const done = await runReaches(t.fleet, runId, 'succeeded');
    expect(done.run).toMatchObject({ budgetUsd: 0.5 });
    expect(done.run.spentUsd).toBeCloseTo(0.3, 10);
    expect(t.rec.ranOf('b')).toHaveLength(1);
    expect(t.rec.ranOf('c')).toHaveLength(1);
  });

  it('compensates what ran when a budget stop is rejected instead', async () => {
    const { runId } = await startRun(t.fleet, chain, { budgetUsd: 0.15 });
    await runReaches(t.fleet, runId, 'awaiting_approval');
    await rejectRun(t.fleet.services.engine, { runId, actor: 'finance', reason: 'not worth it' });
    await waitFor(() => t.rec.compensations.includes('a'), 5_000, 'a compensated');
    const detail = await runReaches(t.fleet, runId, 'rejected');
    expect(detail.steps.map((s) => [s.stepId, s.state])).toEqual([
      ['a', 'compensated'],
      ['b', 'cancelled'],
      ['c', 'cancelled'],
    ]);
    expect(detail.run.approval).toMatchObject({
      kind: 'budget',
      decision: { verdict: 'rejected', actor: 'finance', reason: 'not worth it' },
    });
  });
});
