import { llmEnv, toLlmConfig, type LlmConfig } from '@agentry/llm';
import {
  approvalEnv,
  commonEnv,
  envBool,
  envInt,
  envList,
  envString,
  parseEnv,
  toApprovalSettings,
  toCommonConfig,
  type ApprovalSettings,
  type CommonConfig,
} from '@agentry/schema';

const executorEnv = commonEnv
  .extend(llmEnv.shape)
  .extend(approvalEnv.shape)
  .extend({
    /** Step jobs one executor process works on at once. */
    AGENTRY_EXECUTOR_CONCURRENCY: envInt(16, { min: 1, max: 1024 }),
    /** Hosts http.request and webhook.notify may call (when set, no others); an exact name may also be private. */
    AGENTRY_HTTP_ALLOW_HOSTS: envList(),
    /** Let tools reach private, loopback and link-local addresses. Never in production. */
    AGENTRY_HTTP_ALLOW_PRIVATE: envBool(false),
    /** A step job whose worker stops renewing its lock for this long is handed to another worker. */
    AGENTRY_EXECUTOR_LOCK_MS: envInt(30_000, { min: 1_000, max: 600_000 }),
    /** Times a step may be found stalled (its worker died) before it is dead-lettered. */
    AGENTRY_EXECUTOR_MAX_STALLED: envInt(2, { min: 0, max: 10 }),
    /** Secret reference of the key webhook.notify signs bodies with (HMAC-SHA256); unset → unsigned. */
    AGENTRY_WEBHOOK_SIGNING_KEY_REF: envString(),
  })
  .superRefine((e, ctx) => {
    // A refinement rather than a check after parsing, so it is listed with every other problem.
    if (e.AGENTRY_ENV === 'production' && e.AGENTRY_HTTP_ALLOW_PRIVATE) {
      ctx.addIssue({
        code: 'custom',
        path: ['AGENTRY_HTTP_ALLOW_PRIVATE'],
        message: 'true is refused when AGENTRY_ENV=production',
      });
    }
  });

export interface ExecutorConfig extends CommonConfig {
  concurrency: number;
  http: { allowHosts: string[]; allowPrivate: boolean };
  lockDurationMs: number;
  maxStalledCount: number;
  /** The providers `llm.generate` calls. */
  llm: LlmConfig;
  /** Secret reference of the webhook signing key. */
  webhookSigningKeyRef: string | undefined;
  /** The approval and budget policy (a budget stop fails or parks the run). */
  approval: ApprovalSettings;
}

/** Pure: parse the executor's environment. Throws a readable `AppError('VALIDATION')`. */
export function loadExecutorConfig(source: Record<string, string | undefined>): ExecutorConfig {
  const e = parseEnv(executorEnv, source);
  return {
    ...toCommonConfig(e),
    concurrency: e.AGENTRY_EXECUTOR_CONCURRENCY,
    http: { allowHosts: e.AGENTRY_HTTP_ALLOW_HOSTS, allowPrivate: e.AGENTRY_HTTP_ALLOW_PRIVATE },
    lockDurationMs: e.AGENTRY_EXECUTOR_LOCK_MS,
    maxStalledCount: e.AGENTRY_EXECUTOR_MAX_STALLED,
    llm: toLlmConfig(e),
    webhookSigningKeyRef: e.AGENTRY_WEBHOOK_SIGNING_KEY_REF,
    approval: toApprovalSettings(e),
  };
}
