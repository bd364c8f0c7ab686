export type { AmendPlanInput, AmendPlanResult } from './amend-plan';
export type { ApproveInput, ApproveResult } from './approvals';
export type { ResumeResult } from './resume-run';
export * from './audit-repository';
export * from './budget-repository';
export * from './conversation-repository';
export * from './cost-report-repository';
export * from './cost-repository';
export * from './create-repositories';
export type { MigrationReportEntry } from './create-migrator';
export * from './db';
export * from './dead-letter-repository';
export * from './json';
export * from './llm-call-repository';
export * from './migrate-down';
export * from './migrate-up';
export * from './migrate-to-latest';
export * from './migration-provider';
export * from './migration-status';
export * from './schema-snapshot';
export * from './open-database';
export type {
  AuditRow,
  DeadLetterRow,
  LlmCallRow,
  PlanRow,
  ReadyStep,
  RunRow,
  StepAttemptRow,
  StepRow,
} from './rows';
export * from './run-repository';
export * from './step-repository';
export type { ToolDuration } from './tool-durations';
