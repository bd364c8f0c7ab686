import type { Repositories } from '@agentry/db';
import type { JobKind, JobPayloadInput } from '@agentry/schema';

/** The slice of the typed producer the engine needs (see `@agentry/queue` `createProducer`). */
export interface EngineProducer {
  enqueue<K extends JobKind>(
    kind: K,
    payload: JobPayloadInput<K>,
    options: { jobId: string; attempts?: number },
  ): Promise<{ jobId: string; created: boolean }>;
}

export interface EngineLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What every run-lifecycle operation works with: Postgres (the truth) and the queues. */
export interface EngineDeps {
  repos: Repositories;
  producer: EngineProducer;
  log: EngineLogger;
  clock?: () => Date;
}
