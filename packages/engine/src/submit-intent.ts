import { randomUUID } from 'node:crypto';
import {
  AppError,
  Intent,
  jobIds,
  toAppError,
  type IntentInput,
  type RunState,
} from '@agentry/schema';
import { traceFieldFor, tracingOf, type EngineDeps } from './engine-deps';

export interface SubmitResult {
  runId: string;
  /** False when the idempotency key (or run id) named a run that already existed. */
  created: boolean;
  state: RunState;
  correlationId: string;
  /**
   * False when the run is saved but its plan job could not be enqueued (Redis unreachable): the
   * intent is accepted all the same — the planner's reconciler enqueues it once Redis answers —
   * so the producer must not resubmit.
   */
  queued: boolean;
}

/**
 * Accept an intent: record the run in Postgres, then enqueue its plan job. Idempotent: the same
 * run id or (tenant, idempotency key) returns the existing run, and the plan job's id is derived
 * from the run id, so a retried submit never plans twice. Invalid input → `AppError('VALIDATION')`
 * with the zod issues; Postgres down → `AppError('UNAVAILABLE')` before anything is saved. Redis
 * down after the save is not an error: answering one would invite a producer without an
 * idempotency key to resubmit and create a second run; the result says `queued: false` instead.
 */
export async function submitIntent(
  deps: EngineDeps,
  input: IntentInput | unknown,
  options: {
    runId?: string;
    correlationId?: string;
    /** The caller's W3C `traceparent` (an HTTP header): the run's root span links to it. */
    traceparent?: string;
  } = {},
): Promise<SubmitResult> {
  const startTime = Date.now();
  const parsed = Intent.safeParse(input);
  if (!parsed.success) {
    throw new AppError('VALIDATION', 'intent is invalid', {
      details: { issues: parsed.error.issues },
    });
  }
  const intent = parsed.data;
  const id = options.runId ?? randomUUID();
  const { run, created } = await deps.repos.runs.create({
    id,
    tenantId: intent.tenantId,
    conversationId: intent.conversationId,
    idempotencyKey: intent.idempotencyKey,
    planJobId: jobIds.plan(id),
    correlationId: options.correlationId ?? id,
    dryRun: intent.dryRun,
    intent,
    budgetUsd: intent.budgetUsd,
  });
  if (created) {
    tracingOf(deps).recordRunRoot(run.id, {
      startTime,
      attributes: {
        'agentry.correlation_id': run.correlationId,
        'agentry.tenant_id': run.tenantId,
        'agentry.dry_run': intent.dryRun,
      },
      ...(options.traceparent ? { link: options.traceparent } : {}),
    });
  }
  let queued = true;
  if (run.state === 'pending') {
    try {
      await deps.producer.enqueue(
        'plan',
        {
          intent: run.intent,
          runId: run.id,
          correlationId: run.correlationId,
          ...traceFieldFor(deps, run.id),
        },
        { jobId: jobIds.plan(run.id) },
      );
    } catch (e) {
      const error = toAppError(e);
      if (error.code !== 'UNAVAILABLE') throw error;
      queued = false;
      deps.log.warn(
        { runId: run.id, correlationId: run.correlationId, err: error },
        'plan job not enqueued (redis unavailable); the reconciler will enqueue it',
      );
    }
  }
  deps.log.info(
    { runId: run.id, correlationId: run.correlationId, tenantId: run.tenantId, created, queued },
    'intent accepted',
  );
  return { runId: run.id, created, state: run.state, correlationId: run.correlationId, queued };
}
