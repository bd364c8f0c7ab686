import { startFakeLlmServer, type FakeLlmServer } from '@agentry/llm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestFleet, type RunDetail } from '../support/fleet';

/**
 * A model-provider outage on the real fleet: planner, executor and API processes against the fake
 * provider on 127.0.0.1, which fails every call until told otherwise.
 */
describe('model provider outage (separate processes)', () => {
  let fleet: TestFleet;
  let fake: FakeLlmServer;
  beforeAll(async () => {
    fake = await startFakeLlmServer({ apiKey: 'outage-key' });
    fleet = await TestFleet.create({
      AGENTRY_LLM_PROVIDER: 'openai',
      AGENTRY_LLM_MODEL: 'fake-model',
      AGENTRY_LLM_BASE_URL: `${fake.url}/v1`,
      AGENTRY_LLM_API_KEY_REF: 'env://FAKE_LLM_KEY',
      FAKE_LLM_KEY: 'outage-key',
      AGENTRY_LLM_BACKOFF_INITIAL_MS: '20',
      AGENTRY_LLM_BACKOFF_MAX_MS: '500',
      AGENTRY_LLM_BREAKER_MIN_CALLS: '3',
      AGENTRY_LLM_BREAKER_HALF_OPEN_AFTER_MS: '2000',
    });
    await fleet.startAll();
  }, 60_000);
  afterAll(async () => {
    await fleet?.close();
    await fake?.close();
  }, 60_000);

  const submit = async (text: string) => {
    const { status, body } = await fleet.http<{ runId: string }>('POST', '/v1/runs', {
      text,
      tenantId: 'acme',
    });
    expect(status).toBe(202);
    return body.runId;
  };

  it('gives every intent of a burst a plan with bounded calls, and recovers through a probe', async () => {
    fake.setMode({ kind: 'status', status: 500 });
    const burst = 20;
    const runIds = await Promise.all(
      Array.from({ length: burst }, (_, i) => submit(`tell the team about item ${i}`)),
    );
    const runs: RunDetail[] = await Promise.all(
      runIds.map((id) => fleet.waitForRun(id, (s) => s === 'awaiting_approval')),
    );
    for (const run of runs) {
      expect(run.plan).toMatchObject({ source: 'fallback', producedBy: 'fallback:needs-approval' });
    }
    // 20 intents × 3 attempts would be 60 calls; the breaker and the retry budget stop that.
    const duringOutage = fake.requestCount();
    expect(duringOutage).toBeLessThanOrEqual(16);

    // The API shows why: the model hop was skipped, and the failed calls are on the run.
    const { body } = await fleet.http<{
      run: { planning: { hops: Array<{ planner: string; outcome: string; code?: string }> } };
      llmCalls: unknown[];
    }>('GET', `/v1/runs/${runIds[0]}`);
    expect(body.run.planning.hops.map((h) => [h.planner, h.outcome])).toEqual([
      ['llm:openai:fake-model', 'skipped'],
      ['template', 'skipped'],
      ['fallback', 'planned'],
    ]);

    // The provider recovers; after the half-open delay one probe closes the circuit.
    fake.clearMode();
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    const recovered = await fleet.waitForRun(
      await submit('tell the team we are back'),
      (s) => s === 'succeeded',
    );
    expect(recovered.plan).toMatchObject({ source: 'llm', producedBy: 'openai:fake-model' });
    expect(fake.requestCount()).toBe(duringOutage + 1);

    // Nothing was lost: an operator approves a fallback plan and it runs.
    const fallback = await fleet.waitForRun(runIds[1] as string, (s) => s === 'awaiting_approval');
    const approved = await fleet.http('POST', `/v1/runs/${runIds[1]}/approve`, {
      actor: 'oncall',
      reason: 'acknowledge during the outage',
      planHash: fallback.plan?.hash,
    });
    expect(approved.status).toBe(200);
    await fleet.waitForRun(runIds[1] as string, (s) => s === 'succeeded');

    const [planner] = fleet.processes;
    expect(
      planner?.lines.some((l) => l.msg === 'circuit opened: calls to this provider stop'),
    ).toBe(true);
    expect(planner?.lines.some((l) => l.msg === 'circuit closed: the provider recovered')).toBe(
      true,
    );
    expect(planner?.lines.filter((l) => JSON.stringify(l).includes('outage-key'))).toEqual([]);
  });
});
