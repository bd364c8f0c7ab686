import type { ColumnType, Generated } from 'kysely';
import type {
  ApprovalRecord,
  ErrorCode,
  Intent,
  LlmCallPurpose,
  Plan,
  PlanReview,
  PlanSource,
  PlanningRecord,
  RiskLevel,
  RunState,
  SerializedError,
  StepState,
} from '@agentry/schema';
import type { JsonText } from './json';

/** A `jsonb` column read as `T`, written with {@link JsonText} from `toJson()`. */
export type Json<T> = ColumnType<T, JsonText<T>, JsonText<T>>;
/** A nullable `jsonb` column. */
export type NullableJson<T> = ColumnType<
  T | null,
  JsonText<T> | null | undefined,
  JsonText<T> | null
>;
/** A `jsonb` column with a database default. */
export type DefaultedJson<T> = ColumnType<T, JsonText<T> | undefined, JsonText<T>>;
/** A `timestamptz` column with `default now()`. */
export type CreatedAt = ColumnType<Date, Date | undefined, Date>;
/** A nullable `timestamptz` column. */
export type NullableTimestamp = ColumnType<Date | null, Date | null | undefined, Date | null>;
/**
 * A `bigserial` id. node-postgres returns int8 as a string, PGlite as a number (or a bigint past
 * 2^53); repositories expose it as a string.
 */
export type BigSerial = ColumnType<string | number | bigint, never, never>;
/** A `numeric` column: read as a string by both drivers, written as a number. */
export type Numeric = ColumnType<string | null, number | null | undefined, number | null>;

/** One outcome of a step attempt. */
export type AttemptOutcome = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** `runs`: one row per accepted intent. */
export interface RunsTable {
  id: string;
  tenantId: string;
  conversationId: string | null;
  idempotencyKey: string | null;
  planJobId: string | null;
  correlationId: string;
  state: ColumnType<RunState, RunState | undefined, RunState>;
  dryRun: boolean;
  intent: Json<Intent>;
  budgetUsd: Numeric;
  error: NullableJson<SerializedError>;
  createdAt: CreatedAt;
  updatedAt: CreatedAt;
  startedAt: NullableTimestamp;
  finishedAt: NullableTimestamp;
  /** How the plan was made (migration 0003); null before planning. */
  planning: NullableJson<PlanningRecord>;
  /** What the run has spent so far, US dollars (migration 0004; kept by a trigger). */
  spentUsd: ColumnType<string, never, never>;
  /** Why the run waits for approval, and the decision once made (migration 0004). */
  approval: NullableJson<ApprovalRecord>;
  /** When a pending approval request expires (then the run is rejected); null: never. */
  approvalExpiresAt: NullableTimestamp;
  /** The run's turn in its conversation (1 for the first); null without one. */
  turn: ColumnType<number | null, number | null | undefined, number | null>;
}

/** `plans`: the validated plan of a run (at most one). */
export interface PlansTable {
  runId: string;
  source: PlanSource;
  producedBy: string;
  summary: string;
  /** sha256 of the canonical plan JSON. */
  hash: string;
  body: Json<Plan>;
  createdAt: CreatedAt;
  /** Estimated duration, cost and risk (migration 0004); null for plans saved before it. */
  review: NullableJson<PlanReview>;
}

/** `steps`: one row per plan step, keyed by (run_id, step_id). */
export interface StepsTable {
  runId: string;
  stepId: string;
  /** Index in the plan's topological order. */
  position: number;
  tool: string;
  input: Json<Record<string, unknown>>;
  dependsOn: Json<string[]>;
  /** Dependencies not yet succeeded; the step is queued when it reaches 0. */
  pendingDeps: number;
  timeoutMs: number;
  maxAttempts: number;
  risk: RiskLevel;
  state: StepState;
  attempts: Generated<number>;
  output: NullableJson<unknown>;
  error: NullableJson<SerializedError>;
  queuedAt: NullableTimestamp;
  startedAt: NullableTimestamp;
  finishedAt: NullableTimestamp;
  compensatedAt: NullableTimestamp;
}

/** `step_attempts`: one row per execution attempt of a step. */
export interface StepAttemptsTable {
  id: BigSerial;
  runId: string;
  stepId: string;
  attempt: number;
  jobId: string;
  worker: string;
  outcome: AttemptOutcome;
  error: NullableJson<SerializedError>;
  startedAt: CreatedAt;
  finishedAt: NullableTimestamp;
  durationMs: number | null;
}

/** `dead_letters`: jobs that failed for good, kept for inspection and replay. */
export interface DeadLettersTable {
  id: Generated<string>;
  sourceQueue: string;
  jobId: string;
  jobName: string;
  runId: string | null;
  stepId: string | null;
  correlationId: string | null;
  reason: string;
  errorCode: ErrorCode;
  error: NullableJson<SerializedError>;
  attempts: number;
  payload: Json<Record<string, unknown>>;
  failedAt: CreatedAt;
  replayedAt: NullableTimestamp;
  replayCount: Generated<number>;
}

/** `audit_log`: who did what to which run, dead letter or secret. */
export interface AuditLogTable {
  id: BigSerial;
  at: CreatedAt;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  details: DefaultedJson<Record<string, unknown>>;
}

/** `llm_calls`: one row per model call, with its run (and step, for `llm.generate`). */
export interface LlmCallsTable {
  id: BigSerial;
  runId: string;
  stepId: string | null;
  purpose: LlmCallPurpose;
  provider: string;
  /** As configured. */
  model: string;
  /** As the provider named it in its answer. */
  answeredModel: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: ColumnType<string, number, number>;
  priced: boolean;
  latencyMs: number;
  outcome: 'ok' | 'invalid' | 'error';
  errorCode: string | null;
  at: CreatedAt;
}

/** `tool_charges`: the cost of each attempt of a priced tool (migration 0004). */
export interface ToolChargesTable {
  id: BigSerial;
  runId: string;
  stepId: string;
  attemptId: ColumnType<string, string, never>;
  tool: string;
  costUsd: ColumnType<string, number, never>;
  at: CreatedAt;
}

/** `tenant_spend`: what a tenant spent in a month (UTC; `period` is its first day). */
export interface TenantSpendTable {
  tenantId: string;
  period: ColumnType<string, string, string>;
  spentUsd: ColumnType<string, number, number>;
  updatedAt: CreatedAt;
}

/** `tenant_budgets`: a tenant's monthly budget and the percentages that raise an alert. */
export interface TenantBudgetsTable {
  tenantId: string;
  monthlyUsd: ColumnType<string, number, number>;
  thresholds: DefaultedJson<number[]>;
  updatedAt: CreatedAt;
  updatedBy: string;
}

/** `budget_alerts`: one row per tenant, month and threshold reached (recorded by a trigger). */
export interface BudgetAlertsTable {
  id: BigSerial;
  tenantId: string;
  period: ColumnType<string, string, never>;
  thresholdPct: number;
  budgetUsd: ColumnType<string, number, never>;
  spentUsd: ColumnType<string, number, never>;
  crossedAt: ColumnType<Date, Date, never>;
  /** When it was logged and counted (exactly once, by whoever claimed it). */
  announcedAt: NullableTimestamp;
  /** When the webhook took it; null while undelivered (or no webhook is configured). */
  deliveredAt: NullableTimestamp;
  deliveryAttempts: Generated<number>;
  lastError: string | null;
}

/** `conversations`: the threads intents may name, per tenant. */
export interface ConversationsTable {
  tenantId: string;
  conversationId: string;
  turns: Generated<number>;
  createdAt: CreatedAt;
  lastTurnAt: CreatedAt;
}

/** The database as Kysely sees it (camelCase; SQL is snake_case through `CamelCasePlugin`). */
export interface DB {
  runs: RunsTable;
  plans: PlansTable;
  steps: StepsTable;
  stepAttempts: StepAttemptsTable;
  deadLetters: DeadLettersTable;
  auditLog: AuditLogTable;
  llmCalls: LlmCallsTable;
  toolCharges: ToolChargesTable;
  tenantSpend: TenantSpendTable;
  tenantBudgets: TenantBudgetsTable;
  budgetAlerts: BudgetAlertsTable;
  conversations: ConversationsTable;
}
