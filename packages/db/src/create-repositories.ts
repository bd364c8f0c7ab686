import type { Kysely } from 'kysely';
import type { DB } from './db';
import { createAuditRepository, type AuditRepository } from './audit-repository';
import { createBudgetRepository, type BudgetRepository } from './budget-repository';
import {
  createConversationRepository,
  type ConversationRepository,
} from './conversation-repository';
import { createCostReportRepository, type CostReportRepository } from './cost-report-repository';
import { createCostRepository, type CostRepository } from './cost-repository';
import { createDeadLetterRepository, type DeadLetterRepository } from './dead-letter-repository';
import { createLlmCallRepository, type LlmCallRepository } from './llm-call-repository';
import { createRunRepository, type RunRepository } from './run-repository';
import { createStepRepository, type StepRepository } from './step-repository';

/** Options of {@link createRepositories}. */
export interface RepositoryOptions {
  /** Source of every timestamp the repositories write. @default () => new Date() */
  clock?: () => Date;
}

/** The repositories over one database. */
export interface Repositories {
  runs: RunRepository;
  steps: StepRepository;
  deadLetters: DeadLetterRepository;
  audit: AuditRepository;
  llmCalls: LlmCallRepository;
  /** Tool charges and run spend (the write side of cost tracking). */
  costs: CostRepository;
  /** Tenant budgets and their threshold alerts. */
  budgets: BudgetRepository;
  /** Spend by tenant, model, tool and day, and what suggestions are made of. */
  costReport: CostReportRepository;
  /** Conversations and their turns. */
  conversations: ConversationRepository;
}

/** Build every repository over `db`. Cheap; holds no connection of its own. */
export function createRepositories(db: Kysely<DB>, options: RepositoryOptions = {}): Repositories {
  const clock = options.clock ?? (() => new Date());
  return {
    runs: createRunRepository(db, clock),
    steps: createStepRepository(db, clock),
    deadLetters: createDeadLetterRepository(db, clock),
    audit: createAuditRepository(db, clock),
    llmCalls: createLlmCallRepository(db, clock),
    costs: createCostRepository(db, clock),
    budgets: createBudgetRepository(db, clock),
    costReport: createCostReportRepository(db, clock),
    conversations: createConversationRepository(db, clock),
  };
}
