import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeLlmServer, type FakeLlmServer } from '@agentry/llm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, type ExecutorApp } from '../src';
import { executorConfig, openTestFleet, runReaches, startRun, type TestFleet } from './support';

/** `llm.generate` under a run budget: no model call the run cannot afford is made. */
let fleet: TestFleet;
let fake: FakeLlmServer;
let executor: ExecutorApp;

beforeAll(async () => {
  fleet = await openTestFleet('llm-budget');
  fake = await startFakeLlmServer({ apiKey: 'budget-key' });
  const dir = await mkdtemp(join(tmpdir(), 'agentry-llm-budget-'));
  const prices = join(dir, 'prices.json');
  // $0.001 an input token, $0.002 an output token: a call's ceiling is ~$0.2 at 100 tokens out.
  await writeFile(
    prices,
    JSON.stringify({ models: { 'fake-gen': { inputPerMTok: 1_000, outputPerMTok: 2_000 } } }),
  );
  process.env.BUDGET_KEY = 'budget-key';
  executor = await createExecutor(
    executorConfig(fleet, {
      AGENTRY_LLM_PROVIDER: 'openai',
      AGENTRY_LLM_MODEL: 'fake-gen',
      AGENTRY_LLM_BASE_URL: `${fake.url}/v1`,
      AGENTRY_LLM_API_KEY_REF: 'env://BUDGET_KEY',
      AGENTRY_LLM_MAX_OUTPUT_TOKENS: '100',
      AGENTRY_LLM_PRICES_FILE: prices,
    }),
    { services: fleet.services, health: false },
  );
  await executor.start();
});
afterAll(async () => {
  await executor.close({ deadlineMs: 2_000 });
  await fake.close();
  await fleet.close();
});

describe('llm.generate under a run budget', () => {
  it('makes the first call, then stops before the call that could cross the budget', async () => {
    // 20 tokens in, 80 out: $0.18 actually spent by the first call.
    fake.script({ kind: 'ok', content: 'first answer', usage: { input: 20, output: 80 } });
    const { runId } = await startRun(
      fleet,
      [
        { id: 'one', tool: 'llm.generate', input: { prompt: 'draft it' } },
        { id: 'two', tool: 'llm.generate', input: { prompt: 'polish it' }, dependsOn: ['one'] },
      ],
      { budgetUsd: 0.3 },
    );
    const detail = await runReaches(fleet, runId, 'failed');
    expect(fake.requestCount()).toBe(1);
    expect(detail.run.spentUsd).toBeCloseTo(0.18, 10);
    expect(detail.run.error).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      message: expect.stringMatching(
        /run budget \$0\.30 would be exceeded: spent \$0\.18, a call to openai:fake-gen needs up to \$0\.20; it was not made/,
      ) as string,
    });
    expect(detail.llmCalls).toHaveLength(1);
    expect(detail.steps.map((s) => [s.stepId, s.state])).toEqual([
      ['one', 'succeeded'],
      ['two', 'failed'],
    ]);
  });
});
