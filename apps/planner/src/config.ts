import { z } from 'zod';
import { llmEnv, toLlmConfig, type LlmConfig } from '@agentry/llm';
import {
  approvalEnv,
  commonEnv,
  env,
  envInt,
  envString,
  parseEnv,
  toApprovalSettings,
  toCommonConfig,
  type ApprovalSettings,
  jobCatalog,
  type CommonConfig,
} from '@agentry/schema';

/** The plan job's own deadline; model hops must end well before it. */
const planJobTimeoutMs = jobCatalog.plan.timeoutMs;

const plannerEnv = commonEnv
  .extend(llmEnv.shape)
  .extend(approvalEnv.shape)
  .extend({
    /** Plan jobs one planner process works on at once. */
    AGENTRY_PLANNER_CONCURRENCY: envInt(8, { min: 1, max: 256 }),
    /** A plan job whose planner stops renewing its lock for this long goes to another planner. */
    AGENTRY_PLANNER_LOCK_MS: envInt(30_000, { min: 1_000, max: 600_000 }),
    /** Times a plan job may be found stalled (its planner died) before it is dead-lettered. */
    AGENTRY_PLANNER_MAX_STALLED: envInt(1, { min: 0, max: 10 }),
    /** JSON file of extra intent templates, tried before the built-ins (see docs/templates.md). */
    AGENTRY_PLANNER_TEMPLATES_FILE: envString(),
    /** How often the reconciler looks for runs a crash left behind; 0 turns it off. */
    AGENTRY_RECONCILE_INTERVAL_MS: envInt(30_000, { max: 3_600_000 }),
    /** A run untouched for this long in `pending`/`running` is checked by the reconciler. */
    AGENTRY_RECONCILE_AFTER_MS: env(z.coerce.number().int().min(1_000).default(60_000)),
    /** Time all model hops of one plan may take together before the chain falls back to templates. */
    AGENTRY_PLANNER_LLM_DEADLINE_MS: envInt(90_000, {
      min: 1_000,
      max: planJobTimeoutMs - 10_000,
    }),
    /** Days a conversation is kept after its last turn; 0 keeps conversations forever. */
    AGENTRY_CONVERSATION_RETENTION_DAYS: envInt(30, { max: 36_500 }),
    /** Tokens of earlier conversation turns the model planner is given (see docs/conversations.md). */
    AGENTRY_PLANNER_CONTEXT_TOKENS: envInt(2_000, { min: 100, max: 200_000 }),
  });

export interface PlannerConfig extends CommonConfig {
  concurrency: number;
  /** BullMQ lock of a plan job; stalled plan jobs are looked for as often. */
  lockDurationMs: number;
  maxStalledCount: number;
  templatesFile: string | undefined;
  reconcileIntervalMs: number;
  reconcileAfterMs: number;
  llm: LlmConfig;
  llmDeadlineMs: number;
  /** Days a conversation is kept after its last turn; 0: forever. */
  conversationRetentionDays: number;
  /** Token budget of the conversation history given to the model planner. */
  contextTokens: number;
  /** When a plan waits for approval, and for how long. */
  approval: ApprovalSettings;
}

/** Pure: parse the planner's environment. Throws a readable `AppError('VALIDATION')`. */
export function loadPlannerConfig(source: Record<string, string | undefined>): PlannerConfig {
  const e = parseEnv(plannerEnv, source);
  return {
    ...toCommonConfig(e),
    concurrency: e.AGENTRY_PLANNER_CONCURRENCY,
    lockDurationMs: e.AGENTRY_PLANNER_LOCK_MS,
    maxStalledCount: e.AGENTRY_PLANNER_MAX_STALLED,
    templatesFile: e.AGENTRY_PLANNER_TEMPLATES_FILE,
    reconcileIntervalMs: e.AGENTRY_RECONCILE_INTERVAL_MS,
    reconcileAfterMs: e.AGENTRY_RECONCILE_AFTER_MS,
    llm: toLlmConfig(e),
    llmDeadlineMs: e.AGENTRY_PLANNER_LLM_DEADLINE_MS,
    approval: toApprovalSettings(e),
    conversationRetentionDays: e.AGENTRY_CONVERSATION_RETENTION_DAYS,
    contextTokens: e.AGENTRY_PLANNER_CONTEXT_TOKENS,
  };
}
