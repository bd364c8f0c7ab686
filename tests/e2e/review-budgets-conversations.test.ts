import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeLlmServer, type FakeLlmServer } from '@agentry/llm/testing';
import type { PlanReview } from '@agentry/schema';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../packages/engine/test/webhook-receiver';
import { TestFleet, type RunDetail } from '../support/fleet';

/**
 * Issue 5's proof on the real fleet (planner, executor and API processes) with the fake model on
 * 127.0.0.1: reviews and their estimates, approvals bound to the plan, run budgets, tenant
 * budget alerts, conversation context and cancellation.
 *
 * Prices: model input tokens are free and output tokens $10 a million, so a cost is the output
 * tokens a call reports (scripted below) times $0.00001; every `echo` call costs $0.001.
 */
type Detail = RunDetail & {
  run: RunDetail['run'] & { spentUsd: number; approval: Record<string, unknown> | null };
  plan: (RunDetail['plan'] & { review: PlanReview }) | null;
};

const planAnswer = (steps: unknown[], output = 100) => ({
  kind: 'ok' as const,
  content: { summary: `plan of ${steps.length} steps`, steps },
  usage: { input: 500, output },
});
const generate = (id: string, dependsOn: string[] = []) => ({
  id,
  tool: 'llm.generate',
  input: { prompt: `write the ${id} section of the incident report, about 150 words` },
  dependsOn,
});

describe('reviews, approvals, budgets, conversations and cancellation (separate processes)', () => {
  let fleet: TestFleet;
  let fake: FakeLlmServer;
  let hook: WebhookReceiver;
  beforeAll(async () => {
    fake = await startFakeLlmServer({ apiKey: 'e2e-key' });
    hook = await startWebhookReceiver();
    const dir = await mkdtemp(join(tmpdir(), 'agentry-e2e-costs-'));
    const prices = join(dir, 'prices.json');
    await writeFile(
      prices,
      JSON.stringify({
        models: { 'fake-model': { inputPerMTok: 0, outputPerMTok: 10 } },
        tools: { echo: { perCallUsd: 0.001 } },
      }),
    );
    fleet = await TestFleet.create({
      AGENTRY_LLM_PROVIDER: 'openai',
      AGENTRY_LLM_MODEL: 'fake-model',
      AGENTRY_LLM_BASE_URL: `${fake.url}/v1`,
      AGENTRY_LLM_API_KEY_REF: 'env://FAKE_LLM_KEY',
      FAKE_LLM_KEY: 'e2e-key',
      AGENTRY_LLM_MAX_OUTPUT_TOKENS: '200',
      AGENTRY_LLM_PRICES_FILE: prices,
      AGENTRY_BUDGET_WEBHOOK_URL_REF: 'env://BUDGET_HOOK_URL',
      BUDGET_HOOK_URL: hook.url,
    });
    await fleet.startAll();
  }, 60_000);
  afterAll(async () => {
    await fleet?.close();
    await fake?.close();
    await hook?.close();
  }, 60_000);
  beforeEach(() => fake.reset());

  const submit = async (body: Record<string, unknown>) => {
    const answer = await fleet.http<{ runId: string }>('POST', '/v1/runs', {
      tenantId: 'acme',
      ...body,
    });
    expect(answer.status).toBe(202);
    return answer.body.runId;
  };
  const settled = (runId: string, state: string, timeoutMs?: number) =>
    fleet.waitForRun(runId, (s) => s === state, timeoutMs) as Promise<Detail>;

  it('a dry run shows a review whose estimate is within 2× of what the approved run cost', async () => {
    fake.script(
      planAnswer([
        generate('draft'),
        { id: 'notify', tool: 'echo', input: { message: 'sent' }, dependsOn: ['draft'] },
      ]),
      { kind: 'ok', content: 'the drafted section', usage: { input: 40, output: 180 } },
    );
    const runId = await submit({ text: 'draft the incident report and tell me', dryRun: true });
    const parked = await settled(runId, 'awaiting_approval');
    const review = parked.plan?.review as PlanReview;
    expect(review.steps.map((s) => [s.stepId, s.tool, s.risk])).toEqual([
      ['draft', 'llm.generate', 'medium'],
      ['notify', 'echo', 'low'],
    ]);
    // Planning is known exactly (100 tokens out); the model step at 256 expected tokens out.
    expect(review.estimatedCost.planningUsd).toBeCloseTo(0.001, 10);
    expect(review.steps[0]?.estimatedCostUsd).toBeCloseTo(0.00256, 10);
    expect(review.steps[1]?.estimatedCostUsd).toBeCloseTo(0.001, 10);
    expect(review.risk).toEqual({
      level: 'medium',
      reasons: ['step "draft" (llm.generate) is medium risk'],
    });
    expect(parked.run.approval).toMatchObject({ kind: 'dry-run', planHash: parked.plan?.hash });
    expect(fake.requestCount()).toBe(1);

    const approved = await fleet.http('POST', `/v1/runs/${runId}/approve`, {
      actor: 'alice',
      planHash: parked.plan?.hash,
    });
    expect(approved.status).toBe(200);
    const done = await settled(runId, 'succeeded');
    const actual = done.run.spentUsd;
    expect(actual).toBeCloseTo(0.001 + 0.0018 + 0.001, 10);
    const ratio = review.estimatedCost.totalUsd / actual;
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });

  it('refuses an approval of the plan as it was before a reviewer amended it', async () => {
    fake.script(planAnswer([generate('draft'), generate('polish', ['draft'])]));
    const runId = await submit({ text: 'draft and polish the report', dryRun: true });
    const parked = await settled(runId, 'awaiting_approval');
    const reviewed = parked.plan?.hash;
    const amended = await fleet.http<{ planHash: string }>('PUT', `/v1/runs/${runId}/plan`, {
      actor: 'bob',
      reason: 'one model call is enough',
      summary: 'draft only',
      steps: [generate('draft')],
    });
    expect(amended.status).toBe(200);
    const stale = await fleet.http<{ error: { code: string; message: string } }>(
      'POST',
      `/v1/runs/${runId}/approve`,
      { actor: 'alice', planHash: reviewed },
    );
    expect(stale.status).toBe(409);
    expect(stale.body.error.message).toMatch(/the plan changed since it was reviewed/);
    expect((await settled(runId, 'awaiting_approval')).steps.map((s) => s.stepId)).toEqual([
      'draft',
    ]);
    fake.script({ kind: 'ok', content: 'drafted', usage: { input: 10, output: 50 } });
    const fresh = await fleet.http('POST', `/v1/runs/${runId}/approve`, {
      actor: 'alice',
      planHash: amended.body.planHash,
    });
    expect(fresh.status).toBe(200);
    await settled(runId, 'succeeded');
  });

  it('stops a run before the model call that could cross its budget; no further calls are made', async () => {
    // Planning costs $0.001; `one` $0.001; `two` could cost up to $0.002 (200 tokens out), and
    // $0.002 + $0.002 is above the $0.0035 budget.
    fake.script(
      planAnswer([generate('one'), generate('two', ['one']), generate('three', ['two'])]),
      { kind: 'ok', content: 'one', usage: { input: 10, output: 100 } },
    );
    const runId = await submit({ text: 'write three sections', budgetUsd: 0.0035 });
    const failed = await settled(runId, 'failed');
    expect(failed.run.error).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      message: expect.stringMatching(
        /spent \$0\.0020, a call to openai:fake-model needs up to \$0\.0020; it was not made/,
      ) as string,
    });
    expect(failed.run.spentUsd).toBeCloseTo(0.002, 10);
    expect(fake.requestCount()).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fake.requestCount()).toBe(2);
    expect(failed.steps.map((s) => [s.stepId, s.state])).toEqual([
      ['one', 'succeeded'],
      ['two', 'failed'],
      ['three', 'cancelled'],
    ]);
  });

  it('alerts a tenant once at each of 50, 80 and 100% of its monthly budget', async () => {
    const set = await fleet.http('PUT', '/v1/tenants/alerts-co/budget', {
      monthlyUsd: 0.01,
      actor: 'finance',
    });
    expect(set.status).toBe(200);
    // Twelve echo calls at $0.001 against $0.01: 50% after five, 80% after eight, 100% after ten.
    const echoes = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ id: `e${i}`, tool: 'echo', input: { message: 'x' } }));
    for (let i = 0; i < 3; i += 1) {
      fake.script(planAnswer(echoes(4), 0));
      await settled(await submit({ tenantId: 'alerts-co', text: 'echo 4 steps' }), 'succeeded');
    }
    await waitUntil(() => hook.received.length >= 3, 10_000);
    fake.script(planAnswer(echoes(2), 0));
    await settled(await submit({ tenantId: 'alerts-co', text: 'echo 2 steps' }), 'succeeded');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const alerts = hook.received.filter((r) => r.body['tenantId'] === 'alerts-co');
    expect(alerts.map((a) => a.body['thresholdPct']).sort((a, b) => Number(a) - Number(b))).toEqual(
      [50, 80, 100],
    );
    expect(new Set(alerts.map((a) => a.headers['x-agentry-alert-id'])).size).toBe(3);
    for (const a of alerts)
      expect(a.body).toMatchObject({ type: 'budget.threshold', budgetUsd: 0.01 });
  });

  it('gives the model the earlier turns of a conversation within the context budget', async () => {
    const conversationId = 'incident-4711';
    const turns = [
      'deploy the api service to staging',
      'now add metrics to it',
      'and alert on its errors',
    ];
    for (const text of turns) {
      fake.script(planAnswer([{ id: 'ack', tool: 'echo', input: { message: text } }], 20));
      await settled(await submit({ text, conversationId }), 'succeeded');
    }
    const third = fake.requests.at(-1)?.body as {
      messages: Array<{ role: string; content: string }>;
    };
    const history = third.messages.filter((m) => m.role !== 'system').slice(0, -1);
    const text = history.map((m) => m.content).join('\n');
    expect(third.messages.at(-1)?.content).toBe('and alert on its errors');
    expect(text).toContain('deploy the api service to staging');
    expect(text).toContain('now add metrics to it');
    expect(text).toMatch(/Turn 2\./);
    expect(Math.ceil(text.length / 4)).toBeLessThanOrEqual(2_000);
    const listed = await fleet.http<{ turns: Array<{ turn: number; intentText: string }> }>(
      'GET',
      `/v1/tenants/acme/conversations/${conversationId}`,
    );
    expect(listed.body.turns.map((t) => [t.turn, t.intentText])).toEqual(
      turns.map((t, i) => [i + 1, t]),
    );
  });

  it('cancels a running run: its running step stops, completed steps are compensated, nothing stays queued', async () => {
    fake.script(
      planAnswer([
        { id: 'first', tool: 'echo', input: { message: 'prepared' } },
        {
          id: 'slow',
          tool: 'wait',
          input: { ms: 20_000 },
          timeoutMs: 30_000,
          dependsOn: ['first'],
        },
        { id: 'after', tool: 'echo', input: { message: 'never' }, dependsOn: ['slow'] },
      ]),
    );
    const runId = await submit({ text: 'prepare, wait a long time, then report' });
    await fleet.waitForRun(runId, () => true);
    await waitUntil(async () => {
      const { body } = await fleet.http<Detail>('GET', `/v1/runs/${runId}`);
      return body.steps.find((s) => s.stepId === 'slow')?.state === 'running';
    }, 10_000);
    const cancelled = await fleet.http<{ state: string; spentUsd: number; runningSteps: number }>(
      'POST',
      `/v1/runs/${runId}/cancel`,
      { actor: 'oncall', reason: 'wrong service' },
    );
    expect(cancelled.body).toMatchObject({ state: 'cancelled', runningSteps: 1 });
    expect(cancelled.body.spentUsd).toBeCloseTo(0.001 + 0.001, 10);
    await waitUntil(async () => {
      const { body } = await fleet.http<Detail>('GET', `/v1/runs/${runId}`);
      const state = new Map(body.steps.map((s) => [s.stepId, s.state]));
      return state.get('first') === 'compensated' && state.get('slow') === 'cancelled';
    }, 10_000);
    const { body } = await fleet.http<Detail>('GET', `/v1/runs/${runId}`);
    expect(body.steps.map((s) => [s.stepId, s.state])).toEqual([
      ['first', 'compensated'],
      ['slow', 'cancelled'],
      ['after', 'cancelled'],
    ]);
    const queue = fleet.rawQueue('agentry.step');
    const open = await queue.getJobs(['waiting', 'delayed', 'active', 'prioritized']);
    expect(open.filter((j) => (j.data as { runId?: string }).runId === runId)).toEqual([]);
  });
});

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
