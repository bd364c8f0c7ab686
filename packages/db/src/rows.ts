import type { Selectable } from 'kysely';
import type {
  ApprovalRecord,
  Intent,
  Plan,
  PlanReview,
  PlanSource,
  RiskLevel,
  RunState,
  SerializedError,
  StepState,
  ErrorCode,
  LlmCallPurpose,
  PlanningRecord,
} from '@agentry/schema';
import type {
  AttemptOutcome,
  AuditLogTable,
  DeadLettersTable,
  LlmCallsTable,
  PlansTable,
  RunsTable,
  StepAttemptsTable,
  StepsTable,
} from './db';

/** A run as repositories return it. */
export interface RunRow {
  id: string;
  tenantId: string;
  conversationId: string | null;
  idempotencyKey: string | null;
  planJobId: string | null;
  correlationId: string;
  state: RunState;
  dryRun: boolean;
  intent: Intent;
  /** US dollars; `numeric` in SQL, converted to a number here. */
  budgetUsd: number | null;
  error: SerializedError | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** How the plan was made: each planner tried, in order; null before planning. */
  planning: PlanningRecord | null;
  /** What the run has spent so far (model calls and priced tools), US dollars. */
  spentUsd: number;
  /** Why the run waits (or waited) for approval, and the decision. */
  approval: ApprovalRecord | null;
  approvalExpiresAt: Date | null;
  /** Its turn in its conversation (1 for the first); null without one. */
  turn: number | null;
}

/** A stored plan. */
export interface PlanRow {
  runId: string;
  source: PlanSource;
  producedBy: string;
  summary: string;
  hash: string;
  body: Plan;
  createdAt: Date;
  /** Estimates, risk and approval policy; null for a plan saved before reviews existed. */
  review: PlanReview | null;
}

/** A step of a run. */
export interface StepRow {
  runId: string;
  stepId: string;
  position: number;
  tool: string;
  input: Record<string, unknown>;
  dependsOn: string[];
  pendingDeps: number;
  timeoutMs: number;
  maxAttempts: number;
  risk: RiskLevel;
  state: StepState;
  /** Attempts started so far. */
  attempts: number;
  output: unknown;
  error: SerializedError | null;
  queuedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  compensatedAt: Date | null;
}

/** A step just moved to `queued`, with what enqueueing its job needs. */
export interface ReadyStep {
  stepId: string;
  maxAttempts: number;
}

/** One execution attempt of a step. `id` is a bigserial, as a decimal string. */
export interface StepAttemptRow {
  id: string;
  runId: string;
  stepId: string;
  attempt: number;
  jobId: string;
  worker: string;
  outcome: AttemptOutcome;
  error: SerializedError | null;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
}

/** A dead letter. */
export interface DeadLetterRow {
  id: string;
  sourceQueue: string;
  jobId: string;
  jobName: string;
  runId: string | null;
  stepId: string | null;
  correlationId: string | null;
  reason: string;
  errorCode: ErrorCode;
  error: SerializedError | null;
  attempts: number;
  /** What the job carried; a payload that was not a JSON object is stored as `{ raw }`. */
  payload: Record<string, unknown>;
  failedAt: Date;
  replayedAt: Date | null;
  replayCount: number;
}

/** An audit log entry. `id` is a bigserial, as a decimal string. */
export interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  details: Record<string, unknown>;
}

export const toRunRow = (r: Selectable<RunsTable>): RunRow => ({
  ...r,
  budgetUsd: r.budgetUsd === null ? null : Number(r.budgetUsd),
  spentUsd: Number(r.spentUsd),
});
export const toPlanRow = (r: Selectable<PlansTable>): PlanRow => ({ ...r });
export const toStepRow = (r: Selectable<StepsTable>): StepRow => ({ ...r });
export const toStepAttemptRow = (r: Selectable<StepAttemptsTable>): StepAttemptRow => ({
  ...r,
  id: String(r.id),
});
export const toDeadLetterRow = (r: Selectable<DeadLettersTable>): DeadLetterRow => ({ ...r });
export const toAuditRow = (r: Selectable<AuditLogTable>): AuditRow => ({ ...r, id: String(r.id) });

/** A recorded model call. */
export interface LlmCallRow {
  id: string;
  runId: string;
  stepId: string | null;
  purpose: LlmCallPurpose;
  provider: string;
  model: string;
  answeredModel: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  priced: boolean;
  latencyMs: number;
  outcome: 'ok' | 'invalid' | 'error';
  errorCode: string | null;
  at: Date;
}

export const toLlmCallRow = (r: Selectable<LlmCallsTable>): LlmCallRow => ({
  ...r,
  id: String(r.id),
  costUsd: Number(r.costUsd),
});
