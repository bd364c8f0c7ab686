import { hostname } from 'node:os';
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Context,
  type Link,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { toAppError } from '@agentry/schema';
import type { Registry } from 'prom-client';
import { redactUrl } from '../redact-url';
import { countedExporter } from './counted-exporter';
import { RunIdGenerator } from './run-id-generator';
import { formatTraceparent, parseTraceparent, runRootSpanId, runTraceId } from './run-trace';
import type { SpanAttributes, SpanHandle, SpanOptions, Tracing } from './tracing';
import { TracingMetrics } from './tracing-metrics';

export interface OtlpTracingOptions {
  /** `service.name` of the spans, e.g. `agentry-planner`. */
  serviceName: string;
  /** The OTLP/HTTP traces URL (`…/v1/traces`). */
  endpoint: string;
  /** Request headers (collector API keys), read before each export so rotation is picked up. */
  headers?: () => Promise<Record<string, string>>;
  /** Deadline of one export request. */
  timeoutMs: number;
  /** Share of runs traced (0–1), decided by the trace id: the same runs in every process. */
  sampleRatio: number;
  /** `deployment.environment.name`. */
  environment?: string;
  registry: Registry;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** The process's secret scrubber: applied to every string a span carries. */
  scrub?: (text: string) => string;
  /** Ms between batched exports. @default 1000 */
  exportDelayMs?: number;
}

const kinds = {
  internal: SpanKind.INTERNAL,
  client: SpanKind.CLIENT,
  consumer: SpanKind.CONSUMER,
  producer: SpanKind.PRODUCER,
  server: SpanKind.SERVER,
} as const;

let contextManagerInstalled = false;

/** Active spans follow async calls. Once per process; an application's own manager is kept. */
function installContextManager(): void {
  if (contextManagerInstalled) return;
  contextManagerInstalled = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

const remote = (traceId: string, spanId: string, sampled = true): SpanContext => ({
  traceId,
  spanId,
  traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
  isRemote: true,
});

/**
 * Tracing exported over OTLP/HTTP (JSON) in batches. Export failures are counted
 * (`agentry_tracing_spans_exported_total{outcome="failed"}`) and logged once per outage, never
 * thrown: a collector that is down costs spans, not runs.
 */
export function openTracing(options: OtlpTracingOptions): Tracing {
  installContextManager();
  const scrub = options.scrub ?? ((text: string) => text);
  const metrics = new TracingMetrics(options.registry);
  const exporter = countedExporter(
    new OTLPTraceExporter({
      url: options.endpoint,
      timeoutMillis: options.timeoutMs,
      ...(options.headers ? { headers: options.headers } : {}),
    }),
    metrics,
    options.log,
    redactUrl(options.endpoint),
  );
  const ids = new RunIdGenerator();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      'service.namespace': 'agentry',
      'service.instance.id': `${hostname()}:${process.pid}`,
      ...(options.environment ? { 'deployment.environment.name': options.environment } : {}),
    }),
    idGenerator: ids,
    sampler: new TraceIdRatioBasedSampler(options.sampleRatio),
    spanProcessors: [
      new BatchSpanProcessor(exporter, {
        scheduledDelayMillis: options.exportDelayMs ?? 1_000,
        exportTimeoutMillis: options.timeoutMs,
      }),
    ],
  });
  const tracer = provider.getTracer('agentry');

  const clean = (attributes: SpanAttributes = {}): Record<string, string | number | boolean> => {
    const out: Record<string, string | number | boolean> = {};
    for (const [key, value] of Object.entries(attributes)) {
      if (value !== undefined) out[key] = typeof value === 'string' ? scrub(value) : value;
    }
    return out;
  };
  const handle = (span: Span): SpanHandle => ({
    setAttributes: (attributes) => void span.setAttributes(clean(attributes)),
    addEvent: (name, attributes) => void span.addEvent(name, clean(attributes)),
  });

  /** The parent context and links of a span of `options.runId`. */
  const placement = (options: SpanOptions): { parent: Context; links: Link[] } => {
    const active = context.active();
    if (options.runId === undefined) return { parent: active, links: [] };
    const traceId = runTraceId(options.runId);
    const given = parseTraceparent(options.parent);
    if (given?.traceId === traceId) {
      return {
        parent: trace.setSpanContext(ROOT_CONTEXT, remote(traceId, given.spanId)),
        links: [],
      };
    }
    const links = given ? [{ context: remote(given.traceId, given.spanId, given.sampled) }] : [];
    if (trace.getSpanContext(active)?.traceId === traceId) return { parent: active, links };
    const root = remote(traceId, runRootSpanId(options.runId));
    return { parent: trace.setSpanContext(ROOT_CONTEXT, root), links };
  };

  let closing: Promise<void> | undefined;
  return {
    enabled: true,
    async inSpan(name, spanOptions, fn) {
      const { parent, links } = placement(spanOptions);
      const span = tracer.startSpan(
        name,
        {
          kind: kinds[spanOptions.kind ?? 'internal'],
          attributes: clean(spanOptions.attributes),
          links,
        },
        parent,
      );
      try {
        return await context.with(trace.setSpan(parent, span), () => fn(handle(span)));
      } catch (e) {
        const error = toAppError(e);
        const message = scrub(error.message);
        span.setAttribute('error.type', error.code);
        span.setStatus({ code: SpanStatusCode.ERROR, message });
        span.recordException({ name: error.code, message });
        throw e;
      } finally {
        span.end();
      }
    },
    recordRunRoot(runId, rootOptions) {
      const given = parseTraceparent(rootOptions.link);
      const span = ids.withIds({ traceId: runTraceId(runId), spanId: runRootSpanId(runId) }, () =>
        tracer.startSpan(
          'agentry.run',
          {
            kind: SpanKind.SERVER,
            startTime: rootOptions.startTime,
            attributes: clean({ 'agentry.run_id': runId, ...rootOptions.attributes }),
            links: given ? [{ context: remote(given.traceId, given.spanId, given.sampled) }] : [],
          },
          ROOT_CONTEXT,
        ),
      );
      span.end();
    },
    traceparentFor(runId) {
      const traceId = runTraceId(runId);
      const active = trace.getSpanContext(context.active());
      if (active?.traceId === traceId) {
        return formatTraceparent({
          traceId,
          spanId: active.spanId,
          sampled: (active.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED,
        });
      }
      return formatTraceparent({ traceId, spanId: runRootSpanId(runId), sampled: true });
    },
    shutdown: () => (closing ??= provider.shutdown()),
  };
}
