/** Attribute values a span takes; `undefined` entries are left out. */
export type SpanAttributes = Record<string, string | number | boolean | undefined>;

/** The span a traced function runs in. */
export interface SpanHandle {
  setAttributes(attributes: SpanAttributes): void;
  addEvent(name: string, attributes?: SpanAttributes): void;
}

export interface SpanOptions {
  /** The run the span belongs to: it goes in the run's trace (see `runTraceId`). */
  runId?: string;
  /**
   * The parent's W3C `traceparent`, from a job's payload. Used when it is in the run's trace;
   * a producer's own trace is linked instead. Without it the span's parent is the active span
   * when that is in the run's trace, else the run's root span.
   */
  parent?: string;
  kind?: 'internal' | 'client' | 'consumer' | 'producer' | 'server';
  attributes?: SpanAttributes;
}

/**
 * OpenTelemetry tracing as agentry uses it: a trace per run, spans around jobs, model calls and
 * tool calls, the context carried in job payloads as a `traceparent`. {@link disabledTracing} is
 * the default and costs nothing; `openTracing` exports over OTLP/HTTP.
 */
export interface Tracing {
  readonly enabled: boolean;
  /**
   * Run `fn` in a new span, active inside it; the span ends when `fn` settles. A rejection marks
   * it failed with the error's code (`error.type`) and scrubbed message, and is rethrown.
   */
  inSpan<T>(name: string, options: SpanOptions, fn: (span: SpanHandle) => Promise<T>): Promise<T>;
  /**
   * Record the root span of a run that was just created (`agentry.run`, from `startTime` to now),
   * with ids derived from the run id. Record it once per run. `link`: a caller's `traceparent`.
   */
  recordRunRoot(
    runId: string,
    options: { startTime: number; attributes?: SpanAttributes; link?: string },
  ): void;
  /**
   * The `traceparent` a job of `runId` carries: the active span's when it is in the run's trace,
   * else the run's root span. Undefined when tracing is off (payloads stay as they were).
   */
  traceparentFor(runId: string): string | undefined;
  /** Export what is buffered, then stop. Safe twice. */
  shutdown(): Promise<void>;
}

const noSpan: SpanHandle = { setAttributes: () => undefined, addEvent: () => undefined };

/** Tracing off: functions run as they are, payloads carry no trace context. */
export const disabledTracing: Tracing = {
  enabled: false,
  inSpan: (_name, _options, fn) => fn(noSpan),
  recordRunRoot: () => undefined,
  traceparentFor: () => undefined,
  shutdown: () => Promise.resolve(),
};
