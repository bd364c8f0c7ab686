import type { Kysely } from 'kysely';
import type { DB } from './db';
import { createAuditRepository, type AuditRepository } from './audit-repository';
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
  };
}
