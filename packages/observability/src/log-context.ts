import type { Logger } from 'pino';

/**
 * What a log line can be correlated by. Ids are fine in logs (unlike metric labels). A producer
 * sets `correlationId` once (see `newCorrelationId`) and every job of the run carries it.
 */
export interface LogContext {
  correlationId?: string;
  runId?: string;
  stepId?: string;
  tenantId?: string;
  queue?: string;
  jobId?: string;
  attempt?: number;
}

/**
 * A child of `log` that binds the fields of `ctx` that are defined (an `undefined` field is left
 * out rather than logged as absent). Never throws; `log` itself is unchanged.
 */
export function withContext(log: Logger, ctx: LogContext): Logger {
  const bindings: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(ctx) as [
    keyof LogContext,
    string | number | undefined,
  ][]) {
    if (value !== undefined) bindings[key] = value;
  }
  return log.child(bindings);
}
