import { randomUUID } from 'node:crypto';
import { AppError } from '@agentry/schema';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRegistry } from '../create-registry';
import { startOtlpReceiver, type OtlpReceiver } from '../testing';
import { openTracing, type OtlpTracingOptions } from './open-tracing';
import { formatTraceparent, parseTraceparent, runRootSpanId, runTraceId } from './run-trace';
import { disabledTracing } from './tracing';

const lines: Array<{ msg: string; obj: object }> = [];
const log = {
  info: (obj: object, msg: string) => void lines.push({ obj, msg }),
  warn: (obj: object, msg: string) => void lines.push({ obj, msg }),
};

describe('openTracing (OTLP/HTTP to a local collector)', () => {
  let collector: OtlpReceiver;
  beforeAll(async () => {
    collector = await startOtlpReceiver();
  });
  afterAll(() => collector.close());
  beforeEach(() => {
    lines.length = 0;
  });

  const open = (options: Partial<OtlpTracingOptions> = {}) => {
    const registry = createRegistry();
    const tracing = openTracing({
      serviceName: 'agentry-test',
      endpoint: collector.url,
      timeoutMs: 2_000,
      sampleRatio: 1,
      registry,
      log,
      exportDelayMs: 50,
      ...options,
    });
    return { tracing, registry };
  };
  const ofTrace = (traceId: string) => collector.spans().filter((s) => s.traceId === traceId);

  it('puts a run in one trace whose id is the run id, with parent-child structure', async () => {
    const { tracing } = open();
    const runId = randomUUID();
    const traceId = runId.replaceAll('-', '');
    tracing.recordRunRoot(runId, {
      startTime: Date.now() - 5,
      attributes: { 'agentry.tenant_id': 't1' },
    });
    let carried = '';
    await tracing.inSpan('agentry.plan', { runId, kind: 'consumer' }, async () => {
      await tracing.inSpan('chat fake-model', { kind: 'client' }, async (span) => {
        span.setAttributes({ 'gen_ai.usage.input_tokens': 10, skipped: undefined });
      });
      carried = tracing.traceparentFor(runId) ?? '';
    });
    // What a step job's worker does with the traceparent its payload carried.
    await tracing.inSpan('agentry.step', { runId, parent: carried, kind: 'consumer' }, () =>
      Promise.resolve(),
    );
    await tracing.shutdown();

    const spans = ofTrace(traceId);
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual([
      'agentry.plan',
      'agentry.run',
      'agentry.step',
      'chat fake-model',
    ]);
    const root = byName['agentry.run'];
    expect(root?.spanId).toBe(runRootSpanId(runId));
    expect(root?.parentSpanId).toBe('');
    expect(root?.attributes).toMatchObject({ 'agentry.run_id': runId, 'agentry.tenant_id': 't1' });
    expect(byName['agentry.plan']?.parentSpanId).toBe(root?.spanId);
    expect(byName['agentry.plan']?.kind).toBe(5);
    expect(byName['chat fake-model']?.parentSpanId).toBe(byName['agentry.plan']?.spanId);
    expect(byName['chat fake-model']?.attributes).toEqual({ 'gen_ai.usage.input_tokens': 10 });
    expect(byName['agentry.step']?.parentSpanId).toBe(byName['agentry.plan']?.spanId);
    expect(spans.every((s) => s.service === 'agentry-test')).toBe(true);
  });

  it('links a producer’s own trace instead of joining it, and parents to the run root', async () => {
    const { tracing } = open();
    const runId = randomUUID();
    const foreign = formatTraceparent({
      traceId: 'ab'.repeat(16),
      spanId: 'cd'.repeat(8),
      sampled: true,
    });
    await tracing.inSpan('agentry.plan', { runId, parent: foreign }, () => Promise.resolve());
    await tracing.shutdown();
    const [plan] = ofTrace(runTraceId(runId));
    expect(plan?.parentSpanId).toBe(runRootSpanId(runId));
    expect(plan?.links).toEqual([{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8) }]);
  });

  it('marks a failed span with the error code and a scrubbed message, and rethrows', async () => {
    const { tracing } = open({ scrub: (text) => text.replaceAll('hunter2', '[REDACTED]') });
    const runId = randomUUID();
    await expect(
      tracing.inSpan('agentry.step', { runId }, () =>
        Promise.reject(new AppError('TOOL_FAILED', 'upstream said hunter2 is wrong')),
      ),
    ).rejects.toThrow('hunter2');
    await tracing.shutdown();
    const [step] = ofTrace(runTraceId(runId));
    expect(step?.status).toEqual({ code: 2, message: 'upstream said [REDACTED] is wrong' });
    expect(step?.attributes['error.type']).toBe('TOOL_FAILED');
    expect(JSON.stringify(step)).not.toContain('hunter2');
  });

  it('keeps the same runs in every process at a sample ratio', async () => {
    const a = open({ sampleRatio: 0.5 });
    const b = open({ sampleRatio: 0.5 });
    const runs = Array.from({ length: 40 }, () => randomUUID());
    for (const runId of runs) {
      for (const { tracing } of [a, b]) {
        await tracing.inSpan('agentry.step', { runId }, () => Promise.resolve());
      }
    }
    await Promise.all([a.tracing.shutdown(), b.tracing.shutdown()]);
    const counts = runs.map((r) => ofTrace(runTraceId(r)).length);
    // Each run is traced by both processes or by neither; roughly half are traced.
    expect(counts.every((c) => c === 0 || c === 2)).toBe(true);
    const traced = counts.filter((c) => c === 2).length;
    expect(traced).toBeGreaterThan(5);
    expect(traced).toBeLessThan(35);
  });

  it('sends the headers it is given and counts spans the collector refused', async () => {
    const { tracing, registry } = open({
      headers: () => Promise.resolve({ authorization: 'Bearer test-collector-token' }),
    });
    collector.refuse(1, 400); // not retryable: the batch is lost, and counted
    await tracing.inSpan('lost', { runId: randomUUID() }, () => Promise.resolve());
    await new Promise((r) => setTimeout(r, 400));
    const runId = randomUUID();
    await tracing.inSpan('kept', { runId }, () => Promise.resolve());
    await tracing.shutdown();
    expect(collector.lastHeaders().authorization).toBe('Bearer test-collector-token');
    expect(ofTrace(runTraceId(runId)).map((s) => s.name)).toEqual(['kept']);
    const text = await registry.metrics();
    expect(text).toContain('agentry_tracing_spans_exported_total{outcome="failed"} 1');
    expect(text).toContain('agentry_tracing_spans_exported_total{outcome="ok"} 1');
    expect(lines.map((l) => l.msg)).toEqual([
      'traces not exported: the collector did not take them (spans are dropped until it does)',
      'traces exported again',
    ]);
  });

  it('retries a collector that answers 503 (bounded, by the exporter) and delivers', async () => {
    const { tracing } = open();
    const before = collector.requests();
    collector.refuse(1, 503);
    const runId = randomUUID();
    await tracing.inSpan('retried', { runId }, () => Promise.resolve());
    await collector.waitFor(() => ofTrace(runTraceId(runId)).length === 1, 10_000);
    await tracing.shutdown();
    expect(collector.requests() - before).toBe(2);
  });
});

describe('trace ids', () => {
  it('round-trips a traceparent and refuses malformed ones', () => {
    const ids = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      sampled: true,
    };
    expect(parseTraceparent(formatTraceparent(ids))).toEqual(ids);
    for (const bad of [
      '',
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331',
      'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      `00-${'0'.repeat(32)}-b7ad6b7169203331-01`,
    ]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });

  it('with tracing off, payloads carry no trace context and functions run as they are', async () => {
    expect(disabledTracing.traceparentFor(randomUUID())).toBeUndefined();
    await expect(disabledTracing.inSpan('x', {}, () => Promise.resolve(7))).resolves.toBe(7);
  });
});
