import type { Queue } from 'bullmq';
import type { Registry } from 'prom-client';
import type { AmendDeps, CostReportOptions, EngineDeps } from '@agentry/engine';
import type { Logger, ReadinessCheck } from '@agentry/observability';
import type { DeadLetterAdmin } from '@agentry/queue';
import type { Credential } from './auth';

/** Everything the HTTP API works with; built in container.ts. */
export interface ApiDeps {
  engine: EngineDeps;
  deadLetters: Pick<DeadLetterAdmin, 'replay' | 'acknowledge' | 'purge'>;
  registry: Registry;
  log: Logger;
  /** Readiness checks for /readyz: each throws when its dependency is not usable. */
  readiness: Record<string, ReadinessCheck>;
  /** Bearer token required on /v1 routes; undefined leaves them open (development only). */
  apiToken: Credential | undefined;
  /** The secret store's `scrubDeep`, applied to every error before it is answered or logged. */
  scrubError?: <T>(error: T) => T;
  /** Bull Board: the queues to show and the basic-auth password; undefined turns it off. */
  board: { queues: Queue[]; password: Credential; writable: boolean } | undefined;
  /** What the cost report needs besides the database; undefined: `/v1/costs/report` answers 503. */
  costs?: Pick<CostReportOptions, 'prices' | 'unitPrices' | 'retryWasteThresholdUsd'> & {
    /** Workers connected to the plan and step queues now. */
    workers: () => Promise<number>;
  };
  /** What amending a plan needs besides the engine (tools, reviews); undefined: 503. */
  amend?: Omit<AmendDeps, keyof EngineDeps>;
}
