import { z } from 'zod';
import {
  AppError,
  approvalEnv,
  commonEnv,
  env,
  envBool,
  envInt,
  envString,
  parseEnv,
  toApprovalSettings,
  toCommonConfig,
  type ApprovalSettings,
  type CommonConfig,
} from '@agentry/schema';
import { toBoardConfig, type BoardConfig } from './board-config';

const envUsd = (fallback: number) =>
  env(z.coerce.number().nonnegative().max(1e6).default(fallback));

const apiEnv = commonEnv.extend(approvalEnv.shape).extend({
  /** Port of the HTTP API (and its /metrics, /healthz, /readyz). */
  AGENTRY_API_PORT: envInt(8080, { max: 65535 }),
  /** Interface the API listens on. */
  AGENTRY_API_HOST: env(z.string().default('127.0.0.1')),
  /** Bearer token producers and operators present on /v1 routes. Unset → open (refused in production). */
  AGENTRY_API_TOKEN: envString(),
  /** Bull Board password of user "viewer" (read-only): a value (development) or a secret reference. */
  AGENTRY_BOARD_VIEWER_PASSWORD: envString(),
  /** Bull Board password of user "operator" (may retry, remove, promote …): a value or a secret reference. */
  AGENTRY_BOARD_OPERATOR_PASSWORD: envString(),
  /** Deprecated: Bull Board password of user "admin", a viewer unless AGENTRY_BOARD_WRITABLE=true. */
  AGENTRY_BOARD_PASSWORD: envString(),
  /** Deprecated: makes the "admin" user of AGENTRY_BOARD_PASSWORD an operator. */
  AGENTRY_BOARD_WRITABLE: envBool(false),
  /** How often queue depth by state is read for `agentry_queue_jobs`. */
  AGENTRY_QUEUE_DEPTH_INTERVAL_MS: envInt(5_000, { min: 500, max: 300_000 }),
  /** New intents answer 503 while Redis uses this fraction of its maxmemory or more (headroom for accepted work). */
  AGENTRY_API_INTAKE_REDIS_MEMORY_RATIO: env(z.coerce.number().gt(0).max(1).default(0.9)),
  /** Cost report: USD of one worker process for an hour (default: a small 2-vCPU instance). */
  AGENTRY_COST_WORKER_HOUR_USD: envUsd(0.0416),
  /** Cost report: USD of one GB of database storage for a month. */
  AGENTRY_COST_DATABASE_GB_MONTH_USD: envUsd(0.115),
  /** Cost report: retries of a tool or model costing more than this (USD) are suggested. */
  AGENTRY_COST_RETRY_WASTE_USD: envUsd(0.01),
  /** Cost report: the planner's price table, for cheaper-model suggestions. */
  AGENTRY_LLM_PRICES_FILE: envString(),
  /** The planner's primary model, pricing the model steps of a plan a reviewer amends. */
  AGENTRY_LLM_MODEL: envString(),
});

export interface ApiConfig extends CommonConfig {
  port: number;
  host: string;
  apiToken: string | undefined;
  board: BoardConfig;
  queueDepthIntervalMs: number;
  /**
   * `POST /v1/runs` answers 503 while Redis's used memory is at or above this fraction of its
   * `maxmemory` (and while Redis is unreachable), keeping the rest for work already accepted.
   */
  intakeRedisMemoryRatio: number;
  /** What the cost report needs besides the database (`GET /v1/costs/report`). */
  costs: {
    unitPrices: { workerHourUsd: number; databaseGbMonthUsd: number };
    retryWasteThresholdUsd: number;
    pricesFile: string | undefined;
  };
  /** The approval policy an amended plan is reviewed under, and its model for pricing. */
  approval: ApprovalSettings;
  model: string | undefined;
}

/** Pure: parse the API's environment. Throws a readable `AppError('VALIDATION')`. */
export function loadApiConfig(source: Record<string, string | undefined>): ApiConfig {
  const e = parseEnv(apiEnv, source);
  if (e.AGENTRY_ENV === 'production' && !e.AGENTRY_API_TOKEN) {
    throw new AppError(
      'VALIDATION',
      'invalid configuration: AGENTRY_API_TOKEN must be set when AGENTRY_ENV=production',
    );
  }
  return {
    ...toCommonConfig(e),
    port: e.AGENTRY_API_PORT,
    host: e.AGENTRY_API_HOST,
    apiToken: e.AGENTRY_API_TOKEN,
    board: toBoardConfig({
      viewerPassword: e.AGENTRY_BOARD_VIEWER_PASSWORD,
      operatorPassword: e.AGENTRY_BOARD_OPERATOR_PASSWORD,
      legacyPassword: e.AGENTRY_BOARD_PASSWORD,
      writable: e.AGENTRY_BOARD_WRITABLE,
    }),
    queueDepthIntervalMs: e.AGENTRY_QUEUE_DEPTH_INTERVAL_MS,
    intakeRedisMemoryRatio: e.AGENTRY_API_INTAKE_REDIS_MEMORY_RATIO,
    costs: {
      unitPrices: {
        workerHourUsd: e.AGENTRY_COST_WORKER_HOUR_USD,
        databaseGbMonthUsd: e.AGENTRY_COST_DATABASE_GB_MONTH_USD,
      },
      retryWasteThresholdUsd: e.AGENTRY_COST_RETRY_WASTE_USD,
      pricesFile: e.AGENTRY_LLM_PRICES_FILE,
    },
    approval: toApprovalSettings(e),
    model: e.AGENTRY_LLM_MODEL,
  };
}
