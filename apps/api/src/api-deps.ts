import type { Queue } from 'bullmq';
import type { Registry } from 'prom-client';
import type { AmendDeps, CostReportOptions, EngineDeps } from '@agentry/engine';
import type { Logger, ReadinessCheck } from '@agentry/observability';
import type { DeadLetterAdmin, RedisAdmission } from '@agentry/queue';
import type { LogLevelChange } from '@agentry/schema';
import type { Credential } from './auth';
import type { BoardUser } from './board-auth';

/** Everything the HTTP API works with; built in container.ts. */
export interface ApiDeps {
  engine: EngineDeps;
  /** Announce a log-level change to the fleet; answers how many processes listen. */
  announceLogLevel: (change: LogLevelChange) => Promise<number>;
  deadLetters: Pick<DeadLetterAdmin, 'replay' | 'acknowledge' | 'purge'>;
  registry: Registry;
  log: Logger;
  /**
   * Admission of new intents: `POST /v1/runs` is refused (503, nothing saved) while Redis is
   * unreachable or nearly full. Undefined: always admitted.
   */
  admission?: Pick<RedisAdmission, 'check'>;
  /** Readiness checks for /readyz: each throws when its dependency is not usable. */
  readiness: Record<string, ReadinessCheck>;
  /** Bearer token required on /v1 routes; undefined leaves them open (development only). */
  apiToken: Credential | undefined;
  /** The secret store's `scrubDeep`, applied to every error before it is answered or logged. */
  scrubError?: <T>(error: T) => T;
  /**
   * Bull Board: every queue to show and its basic-auth users with their roles; undefined turns it
   * off. The API token (`apiToken`) is accepted on it as an operator.
   */
  board: { queues: Queue[]; users: BoardUser[] } | undefined;
  /** What the cost report needs besides the database; undefined: `/v1/costs/report` answers 503. */
  costs?: Pick<CostReportOptions, 'prices' | 'unitPrices' | 'retryWasteThresholdUsd'> & {
    /** Workers connected to the plan and step queues now. */
    workers: () => Promise<number>;
  };
  /** What amending a plan needs besides the engine (tools, reviews); undefined: 503. */
  amend?: Omit<AmendDeps, keyof EngineDeps>;
}
