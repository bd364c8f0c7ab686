import type { Repositories } from '@agentry/db';
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
  clock?: () => Date;
}
