import type { Repositories } from '@agentry/db';
import { disabledTracing, type Tracing } from '@agentry/observability';
import type { JobKind, JobPayloadInput } from '@agentry/schema';

/** The slice of the typed producer the engine needs (see `@agentry/queue` `createProducer`). */
export interface EngineProducer {
  enqueue<K extends JobKind>(
    kind: K,
    payload: JobPayloadInput<K>,
    options: { jobId: string; attempts?: number },
  ): Promise<{ jobId: string; created: boolean }>;
  remove(
    kind: JobKind,
    jobId: string,
    states: readonly string[],
  ): Promise<{ state: string; removed: boolean }>;
}

export interface EngineLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** The run a job belongs to, as its payload names it (the tenant binds its log lines). */
export interface RunRef {
  id: string;
  correlationId: string;
  tenantId?: string;
}

/** What every run-lifecycle operation works with: Postgres (the truth) and the queues. */
export interface EngineDeps {
  repos: Repositories;
  producer: EngineProducer;
  log: EngineLogger;
  /** Tell the executors a run was cancelled, so its running steps are aborted. */
  announceCancel?: (runId: string) => Promise<unknown>;
  /** Spans and the trace context jobs carry (off unless configured). */
  tracing?: Tracing;
  clock?: () => Date;
}

/** The deps' tracing, or tracing off. */
export const tracingOf = (deps: Pick<EngineDeps, 'tracing'>): Tracing =>
  deps.tracing ?? disabledTracing;

/** `{ traceparent }` for a job of `runId` enqueued now, or nothing with tracing off. */
export function traceFieldFor(
  deps: Pick<EngineDeps, 'tracing'>,
  runId: string,
): { traceparent?: string } {
  const traceparent = tracingOf(deps).traceparentFor(runId);
  return traceparent === undefined ? {} : { traceparent };
}
