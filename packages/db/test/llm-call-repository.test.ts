import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepositories, type LlmCallInput, type Repositories } from '../src';
import { createTestDatabase, type TestDatabase } from '../src/testing';
import { planOf, runInput } from './fixtures';

const call = (runId: string, over: Partial<LlmCallInput> = {}): LlmCallInput => ({
  runId,
  purpose: 'plan',
  provider: 'primary',
  model: 'gpt-test',
  inputTokens: 1_200,
  outputTokens: 300,
  costUsd: 0.0123,
  priced: true,
  latencyMs: 812.6,
  outcome: 'ok',
  ...over,
});

describe('llm calls and planning record (Postgres)', () => {
  let t: TestDatabase;
  let repos: Repositories;
  beforeAll(async () => {
    t = await createTestDatabase();
    repos = createRepositories(t.db);
  });
  afterAll(async () => {
    await t.close();
  });

  it('stores the calls and the planning record with the plan, in one transaction', async () => {
    const { run } = await repos.runs.create(runInput());
    const planning = {
      hops: [
        {
          planner: 'llm:primary:gpt-test',
          outcome: 'skipped' as const,
          code: 'UNAVAILABLE' as const,
          reason: 'circuit open',
          durationMs: 0,
        },
        { planner: 'template', outcome: 'planned' as const, durationMs: 1 },
      ],
    };
    const failed = call(run.id, { outcome: 'error', errorCode: 'UNAVAILABLE', costUsd: 0 });
    const saved = await repos.runs.savePlan(
      run.id,
      { ...planOf({ a: [] }), planning, llmCalls: [failed, call(run.id)] },
      'running',
    );
    expect(saved.saved).toBe(true);

    expect((await repos.runs.get(run.id))?.planning).toEqual(planning);
    const calls = await repos.llmCalls.forRun(run.id);
    expect(calls.map((c) => [c.outcome, c.errorCode, c.costUsd, c.latencyMs])).toEqual([
      ['error', 'UNAVAILABLE', 0, 813],
      ['ok', null, 0.0123, 813],
    ]);
    expect(await repos.llmCalls.totals(run.id)).toEqual({
      calls: 2,
      inputTokens: 2_400,
      outputTokens: 600,
      costUsd: 0.0123,
    });
  });

  it('records the calls even when the run was no longer pending (the spend happened)', async () => {
    const { run } = await repos.runs.create(runInput());
    await repos.runs.cancel(run.id, 'operator');
    const saved = await repos.runs.savePlan(
      run.id,
      { ...planOf({ a: [] }), planning: { hops: [] }, llmCalls: [call(run.id)] },
      'running',
    );
    expect(saved.saved).toBe(false);
    expect((await repos.runs.get(run.id))?.planning).toBeNull();
    expect(await repos.llmCalls.totals(run.id)).toMatchObject({ calls: 1, costUsd: 0.0123 });
  });

  it('keeps a step id for tool calls and answers zero totals for a run without calls', async () => {
    const { run } = await repos.runs.create(runInput());
    await repos.llmCalls.record([call(run.id, { purpose: 'generate', stepId: 'summarise' })]);
    expect((await repos.llmCalls.forRun(run.id))[0]).toMatchObject({
      purpose: 'generate',
      stepId: 'summarise',
    });
    const other = await repos.runs.create(runInput());
    expect(await repos.llmCalls.totals(other.run.id)).toEqual({
      calls: 0,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
    });
    expect(await repos.llmCalls.forRun('not-a-uuid')).toEqual([]);
  });

  it('refuses a call with negative tokens or an unknown outcome (database checks)', async () => {
    const { run } = await repos.runs.create(runInput());
    await expect(
      repos.llmCalls.record([call(run.id, { outcome: 'maybe' as 'ok' })]),
    ).rejects.toThrow(/check constraint/);
  });
});
