import type { ErrorCode } from '@agentry/schema';

/** A stored dead letter, as the admin store returns it. */
export interface DeadLetterRecord {
  id: string;
  sourceQueue: string;
  jobId: string;
  jobName: string;
  reason: string;
  errorCode: ErrorCode;
  attempts: number;
  payload: unknown;
  failedAt: Date;
  replayedAt: Date | null;
  replayCount: number;
  runId: string | null;
  stepId: string | null;
  correlationId: string | null;
}

export interface DeadLetterQuery {
  sourceQueue?: string;
  /** Only records not yet replayed. */
  pending?: boolean;
  olderThan?: Date;
  limit?: number;
  offset?: number;
}

/** The read/write side of the dead-letter store that operators use; the app implements it. */
export interface DeadLetterAdminStore {
  list(q: DeadLetterQuery): Promise<DeadLetterRecord[]>;
  get(id: string): Promise<DeadLetterRecord | undefined>;
  /** Set `replayedAt` to now and increment `replayCount`. */
  markReplayed(id: string): Promise<unknown>;
  /** Delete by ids and/or age; returns how many were deleted. */
  purge(q: { ids?: string[]; olderThan?: Date }): Promise<number>;
}
