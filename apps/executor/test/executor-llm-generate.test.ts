import { startFakeLlmServer, type FakeLlmServer } from '@agentry/llm/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createExecutor, type ExecutorApp } from '../src';
import { executorConfig, openTestFleet, runReaches, startRun, type TestFleet } from './support';

/** `llm.generate` on a real executor against the fake provider on 127.0.0.1. */
let fleet: TestFleet;
let fake: FakeLlmServer;
let executor: ExecutorApp;

beforeAll(async () => {
  fleet = await openTestFleet('llm-generate');
  fake = await startFakeLlmServer({ apiKey: 'gen-key' });
  const config = executorConfig(fleet, {
    AGENTRY_LLM_PROVIDER: 'openai',
    AGENTRY_LLM_MODEL: 'fake-gen',
    AGENTRY_LLM_BASE_URL: `${fake.url}/v1`,
    AGENTRY_LLM_API_KEY_REF: 'env://GEN_KEY',
    AGENTRY_LLM_MAX_ATTEMPTS: '2',
    AGENTRY_LLM_BACKOFF_INITIAL_MS: '10',
  });
  // The fleet's secret store reads env:// references from the process environment.
  process.env.GEN_KEY = 'gen-key';
  executor = await createExecutor(config, { services: fleet.services, health: false });
  await executor.start();
});
beforeEach(() => fake.reset());
afterAll(async () => {
  await executor.close({ deadlineMs: 2_000 });
  await fake.close();
  await fleet.close();
});

describe('llm.generate', () => {
  it('answers a prompt and records the call with the run and step', async () => {
    fake.script({ kind: 'ok', content: 'three bullet points', usage: { input: 40, output: 9 } });
    const { runId } = await startRun(fleet, [
      { id: 'draft', tool: 'llm.generate', input: { prompt: 'summarise the incident' } },
    ]);
    const detail = await runReaches(fleet, runId, 'succeeded');
    expect(detail.steps[0]?.output).toMatchObject({
      text: 'three bullet points',
      provider: 'openai',
      model: 'fake-gen',
      inputTokens: 40,
      outputTokens: 9,
    });
    expect(detail.llmCalls).toEqual([
      expect.objectContaining({ stepId: 'draft', purpose: 'generate', outcome: 'ok' }),
    ]);
    expect(JSON.stringify(fake.requests[0]?.body)).toContain('summarise the incident');
  });

  it('owns its retries: after the policy gives up the step is not retried again', async () => {
    fake.script(
      { kind: 'status', status: 500 },
      { kind: 'status', status: 500 },
      { kind: 'status', status: 500 },
    );
    const { runId } = await startRun(fleet, [
      { id: 'draft', tool: 'llm.generate', input: { prompt: 'x' }, maxAttempts: 3 },
    ]);
    const detail = await runReaches(fleet, runId, 'failed');
    // Two calls (AGENTRY_LLM_MAX_ATTEMPTS=2) in one step attempt, not 2 × 3.
    expect(fake.requests).toHaveLength(2);
    expect(detail.steps[0]).toMatchObject({ state: 'failed', attempts: 1 });
    expect(detail.steps[0]?.error).toMatchObject({ code: 'TRANSIENT', retryable: false });
    expect(detail.llmCalls).toEqual([
      expect.objectContaining({ stepId: 'draft', outcome: 'error', errorCode: 'TRANSIENT' }),
    ]);
  });
});
