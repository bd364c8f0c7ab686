import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeLlmServer, type FakeLlmServer } from '@agentry/llm/testing';
import {
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '@agentry/observability/testing';
import { stableUuid } from '@agentry/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestFleet } from '../support/fleet';

const planAnswer = (steps: unknown[]) => ({
  kind: 'ok' as const,
  content: { summary: `plan of ${String(steps.length)} steps`, steps },
  usage: { input: 500, output: 100 },
});

/** The spans of a trace by name; fails when a name is there more than once. */
function single(spans: ReceivedSpan[], name: string, where: Partial<ReceivedSpan> = {}) {
  const found = spans.filter(
    (s) =>
      s.name === name && Object.entries(where).every(([k, v]) => s[k as keyof ReceivedSpan] === v),
  );
  expect(found, `${name} ${JSON.stringify(where)}`).toHaveLength(1);
  return found[0] as ReceivedSpan;
}
const stepSpan = (spans: ReceivedSpan[], stepId: string) => {
  const found = spans.filter(
    (s) => s.name === 'agentry.step' && s.attributes['agentry.step_id'] === stepId,
  );
  expect(found, `step ${stepId}`).toHaveLength(1);
  return found[0] as ReceivedSpan;
};
const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan) =>
  spans.filter((s) => s.parentSpanId === parent.spanId);
/** A step's own work: its tool call (the steps it unlocked are its children too). */
const toolCallsOf = (spans: ReceivedSpan[], step: ReceivedSpan) =>
  childrenOf(spans, step).filter((s) => s.name.startsWith('execute_tool '));

/**
 * Issue 6's tracing proof on the real fleet (planner, executor and API processes, tracing on) with
 * the fake model and a local OTLP collector on 127.0.0.1: one trace per run, its id the run id,
 * spans from all three processes with their parent-child structure intact across BullMQ jobs.
 */
describe('tracing (separate processes, OTLP collector on 127.0.0.1)', () => {
  let fleet: TestFleet;
  let fake: FakeLlmServer;
  let collector: OtlpReceiver;
  beforeAll(async () => {
    fake = await startFakeLlmServer({ apiKey: 'trace-key' });
    collector = await startOtlpReceiver();
    const dir = await mkdtemp(join(tmpdir(), 'agentry-e2e-tracing-'));
    const prices = join(dir, 'prices.json');
    await writeFile(
      prices,
      JSON.stringify({ models: { 'fake-model': { inputPerMTok: 1, outputPerMTok: 10 } } }),
    );
    fleet = await TestFleet.create({
      AGENTRY_TRACING: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.url,
      AGENTRY_OTLP_HEADERS_REF: 'env://OTLP_HEADERS',
      OTLP_HEADERS: 'x-collector-key=trace-test-key',
      AGENTRY_LLM_PROVIDER: 'openai',
      AGENTRY_LLM_MODEL: 'fake-model',
      AGENTRY_LLM_BASE_URL: `${fake.url}/v1`,
      AGENTRY_LLM_API_KEY_REF: 'env://FAKE_LLM_KEY',
      FAKE_LLM_KEY: 'trace-key',
      AGENTRY_LLM_PRICES_FILE: prices,
    });
    await fleet.startAll();
  }, 60_000);
  afterAll(async () => {
    await fleet?.close();
    await fake?.close();
    await collector?.close();
  }, 60_000);

  it('a run is one trace: root, planning, model calls, steps and tools, parented across jobs', async () => {
    fake.script(
      planAnswer([
        { id: 'fetch', tool: 'echo', input: { message: 'facts' } },
        { id: 'draft', tool: 'llm.generate', input: { prompt: 'draft it' }, dependsOn: ['fetch'] },
        { id: 'notify', tool: 'echo', input: { message: 'done' }, dependsOn: ['draft'] },
      ]),
      { kind: 'ok', content: 'a draft', usage: { input: 40, output: 60 } },
    );
    const caller = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const { status, body } = await fleet.http<{ runId: string }>(
      'POST',
      '/v1/runs',
      { text: 'write the incident summary', tenantId: 'acme' },
      { traceparent: caller },
    );
    expect(status).toBe(202);
    await fleet.waitForRun(body.runId, (s) => s === 'succeeded');
    const traceId = body.runId.replaceAll('-', '');
    const spans = (
      await collector.waitFor(
        (all) => all.filter((s) => s.traceId === traceId).length >= 10,
        20_000,
      )
    ).filter((s) => s.traceId === traceId);

    // The root: recorded by the API, linked to the caller's own trace.
    const root = single(spans, 'agentry.run');
    expect(root).toMatchObject({ service: 'agentry-api', parentSpanId: '', kind: 2 });
    expect(root.attributes).toMatchObject({
      'agentry.run_id': body.runId,
      'agentry.tenant_id': 'acme',
    });
    expect(root.links).toEqual([
      { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' },
    ]);

    // Planning in the planner, a child of the root through the plan job's traceparent.
    const plan = single(spans, 'agentry.plan');
    expect(plan).toMatchObject({ service: 'agentry-planner', parentSpanId: root.spanId, kind: 5 });
    expect(plan.attributes).toMatchObject({
      'messaging.system': 'bullmq',
      'messaging.destination.name': 'agentry.plan',
      'agentry.plan.source': 'llm',
      'agentry.plan.steps': 3,
    });
    const planningCall = single(spans, 'chat fake-model', { service: 'agentry-planner' });
    expect(planningCall.parentSpanId).toBe(plan.spanId);
    expect(planningCall.kind).toBe(3);
    expect(planningCall.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'fake-model',
      'gen_ai.usage.input_tokens': 500,
      'gen_ai.usage.output_tokens': 100,
      'server.address': '127.0.0.1',
    });
    // $1 per million in, $10 per million out.
    expect(planningCall.attributes['agentry.llm.cost_usd']).toBeCloseTo(0.0015, 10);

    // Steps in the executor: each a child of the job that enqueued it.
    const fetched = stepSpan(spans, 'fetch');
    const draft = stepSpan(spans, 'draft');
    const notify = stepSpan(spans, 'notify');
    expect(fetched.parentSpanId).toBe(plan.spanId);
    expect(draft.parentSpanId).toBe(fetched.spanId);
    expect(notify.parentSpanId).toBe(draft.spanId);
    for (const s of [fetched, draft, notify]) {
      expect(s.service).toBe('agentry-executor');
      expect(s.attributes).toMatchObject({ 'agentry.outcome': 'succeeded', 'agentry.attempt': 1 });
    }
    // A tool call under each step; the model call of llm.generate under its tool call.
    expect(toolCallsOf(spans, fetched).map((s) => s.name)).toEqual(['execute_tool echo']);
    const [generate] = toolCallsOf(spans, draft);
    expect(generate?.name).toBe('execute_tool llm.generate');
    expect(generate?.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'llm.generate',
    });
    const generateCall = single(spans, 'chat fake-model', { service: 'agentry-executor' });
    expect(generateCall.parentSpanId).toBe(generate?.spanId);
    expect(generateCall.attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 40,
      'gen_ai.usage.output_tokens': 60,
    });

    // Every span is in the tree under the root: nothing orphaned.
    const ids = new Set(spans.map((s) => s.spanId));
    for (const s of spans) if (s !== root) expect(ids.has(s.parentSpanId), s.name).toBe(true);
    // The collector got the header from the secret reference; no span carries a tool's input.
    expect(collector.lastHeaders()['x-collector-key']).toBe('trace-test-key');
    expect(JSON.stringify(spans)).not.toContain('draft it');
    // And the API counted what it exported.
    const metrics = await (await fetch(`${fleet.apiUrl}/metrics`)).text();
    const ok = /^agentry_tracing_spans_exported_total\{outcome="ok"[^}]*\} (\d+)/m.exec(metrics);
    expect(Number(ok?.[1])).toBeGreaterThan(0);
  }, 60_000);

  it('a failed step is an error span, and its run’s compensation is traced under it', async () => {
    fake.script(
      planAnswer([
        { id: 'ack', tool: 'echo', input: { message: 'starting' } },
        // Private egress is refused: a fatal policy error, no retry.
        {
          id: 'call',
          tool: 'http.request',
          input: { url: 'http://169.254.169.254/latest/meta-data/' },
          dependsOn: ['ack'],
        },
      ]),
    );
    const { body } = await fleet.http<{ runId: string }>('POST', '/v1/runs', {
      text: 'call the metadata service',
      tenantId: 'acme',
    });
    await fleet.waitForRun(body.runId, (s) => s === 'failed');
    const traceId = body.runId.replaceAll('-', '');
    const spans = (
      await collector.waitFor(
        (all) => all.some((s) => s.traceId === traceId && s.name === 'agentry.compensate'),
        20_000,
      )
    ).filter((s) => s.traceId === traceId);
    const call = stepSpan(spans, 'call');
    expect(call.status.code).toBe(2);
    expect(call.attributes['error.type']).toBe('POLICY_DENIED');
    const [tool] = toolCallsOf(spans, call);
    expect(tool?.name).toBe('execute_tool http.request');
    expect(tool?.status.code).toBe(2);
    const compensate = single(spans, 'agentry.compensate');
    expect(compensate.parentSpanId).toBe(call.spanId);
    expect(childrenOf(spans, compensate)).toMatchObject([
      { name: 'execute_tool echo', attributes: { 'agentry.compensation': true } },
    ]);
  }, 60_000);

  it('a raw BullMQ plan job with its producer’s traceparent: the planner records the root, linked', async () => {
    const producerTrace = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const queue = fleet.rawQueue('agentry.plan');
    try {
      await queue.add(
        'plan',
        { intent: { text: 'echo from python', tenantId: 'polyglot' }, traceparent: producerTrace },
        { jobId: 'traced-from-python-1' },
      );
    } finally {
      await queue.close();
    }
    const runId = stableUuid('plan-job:traced-from-python-1');
    await fleet.waitForRun(runId, (s) => s === 'succeeded');
    const traceId = runId.replaceAll('-', '');
    const spans = (
      await collector.waitFor(
        (all) => all.filter((s) => s.traceId === traceId && s.name === 'agentry.step').length > 0,
        20_000,
      )
    ).filter((s) => s.traceId === traceId);
    const root = single(spans, 'agentry.run');
    expect(root.service).toBe('agentry-planner');
    const plan = single(spans, 'agentry.plan');
    expect(plan.parentSpanId).toBe(root.spanId);
    expect(plan.links).toEqual([
      { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' },
    ]);
    for (const step of spans.filter((s) => s.name === 'agentry.step')) {
      expect(step.traceId).toBe(traceId);
    }
  }, 60_000);
});
