import {
  dispatchSteps,
  enqueueCompensation,
  resumeRun,
  tracingOf,
  type EngineDeps,
} from '@agentry/engine';
import { failureLevel, type JobContext, type RunCancellation } from '@agentry/queue';
import {
  AppError,
  isDatabaseUnavailable,
  jobIds,
  toAppError,
  type JobPayload,
} from '@agentry/schema';
import { lazyChild } from './lazy-child';
import { chargeStep, stopForBudget, type StepCosts } from './step-budget';
import type { ToolRegistry } from './tools';

export interface StepObserver {
  stepFinished(e: {
    tool: string;
    outcome: 'succeeded' | 'failed' | 'retried' | 'cancelled';
    durationMs: number;
    attempt: number;
  }): void;
}

export interface StepJobDeps extends EngineDeps {
  tools: ToolRegistry;
  observer?: StepObserver;
  /** Tool prices and the budget policy; absent: nothing is charged or checked. */
  costs?: StepCosts;
  /** Aborts a run's running steps when it is cancelled; absent: steps run to their end. */
  cancellation?: Pick<RunCancellation, 'watch'>;
  now?: () => number;
}

export type StepJobResult =
  | { outcome: 'succeeded'; readySteps: string[]; runSucceeded: boolean }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'budget-stopped'; runFailed: boolean; parked: boolean }
  | { outcome: 'cancelled'; reason: string };

/**
 * Run one step: claim it in Postgres (a step that already succeeded is not run again), call its
 * tool under the step's timeout and the job's signal, record the result, and enqueue the steps
 * that became ready. A failure is recorded; on the last attempt (or a fatal error) the run fails
 * and its completed steps are compensated. The error is rethrown for the worker runtime, which
 * owns the retry decision at the BullMQ boundary.
 */
export async function handleStepJob(
  deps: StepJobDeps,
  payload: JobPayload<'step'>,
  ctx: JobContext,
): Promise<StepJobResult> {
  const { runId, stepId, correlationId } = payload;
  const run = { id: runId, correlationId, tenantId: payload.tenantId };
  const now = deps.now ?? Date.now;
  const claim = await deps.repos.steps.startAttempt(runId, stepId, {
    attempt: ctx.attempt,
    jobId: ctx.jobId,
    worker: ctx.worker,
  });
  if (
    claim.kind === 'skip' &&
    claim.reason === 'run-not-running' &&
    claim.step?.state === 'failed'
  ) {
    // A step job of a step that failed for good runs again only when someone retried its failed
    // job (Bull Board): that is a replay of its dead letter, so the run resumes from this step.
    await resumeRun(deps, {
      runId,
      stepId,
      actor: 'job retry',
      reason: 'its failed job was retried',
    });
    return handleStepJob(deps, payload, ctx);
  }
  if (claim.kind === 'skip' && claim.reason === 'not-found' && !(await runExists(deps, runId))) {
    // Not a re-delivery of known work: a producer's job naming a run this fleet never had (or a
    // database restored from before it). Kept as a dead letter, not silently completed.
    throw new AppError('NOT_FOUND', `run ${runId} does not exist`);
  }
  if (claim.kind === 'skip') {
    ctx.log.info({ reason: claim.reason }, 'step skipped');
    return { outcome: 'skipped', reason: claim.reason };
  }
  const { step, attemptId } = claim;
  const log = lazyChild(() => ctx.log, { tool: step.tool });
  const cancel = deps.cancellation?.watch(runId);
  const signal = AbortSignal.any([
    ctx.signal,
    AbortSignal.timeout(step.timeoutMs),
    ...(cancel ? [cancel.signal] : []),
  ]);
  const started = now();
  let lost: Error | undefined;
  try {
    const paid = await chargeStep(deps, deps.costs, claim);
    const output = await tracingOf(deps).inSpan(
      `execute_tool ${step.tool}`,
      { attributes: toolSpanAttributes(step.tool, runId, stepId, ctx.attempt) },
      () =>
        deps.tools.invoke(step.tool, step.input, {
          ...paid,
          signal,
          log,
          runId,
          stepId,
          attempt: ctx.attempt,
          idempotencyKey: `${runId}.${stepId}`,
        }),
    );
    const done = await deps.repos.steps.complete(runId, stepId, attemptId, output ?? null);
    if (done.superseded) throw (lost = superseded(ctx, 'its result'));
    deps.observer?.stepFinished({
      tool: step.tool,
      outcome: 'succeeded',
      durationMs: now() - started,
      attempt: ctx.attempt,
    });
    await dispatchSteps(deps, run, done.ready);
    if (done.runSucceeded) log.info({}, 'run succeeded');
    else if (!done.alreadyDone && (done.runState === 'failed' || done.runState === 'cancelled')) {
      // This step was in flight while its run ended (a sibling failed it, or it was cancelled): it
      // is recorded as succeeded, but the run's compensate job may already have run (or found
      // nothing to undo) without it, and its id would make a second enqueue a no-op. Queue a
      // compensation of its own.
      log.warn({ runState: done.runState }, 'step finished after its run ended; compensating it');
      await enqueueCompensation(
        deps,
        run,
        `step ${stepId} finished after the run was ${done.runState}`,
        `${jobIds.compensate(runId)}.${stepId}`,
      );
    }
    return { outcome: 'succeeded', readySteps: done.readyStepIds, runSucceeded: done.runSucceeded };
  } catch (e) {
    const error = toAppError(e);
    if (e === lost) throw e;
    // The database cannot be reached, so this attempt's outcome cannot be recorded: record
    // nothing. The runtime postpones the job without using an attempt; its next delivery closes
    // this attempt as abandoned and runs the step again (same idempotency key).
    if (isDatabaseUnavailable(error)) throw error;
    const durationMs = now() - started;
    if (cancel?.signal.aborted) {
      // The run was cancelled: the step stops here for good (its attempt `cancelled`, the step
      // too, since its run is no longer running). Nothing to retry or dead-letter.
      const cancelled = await deps.repos.steps.cancelAttempt(runId, stepId, attemptId);
      if (cancelled.superseded) throw superseded(ctx, 'its cancellation');
      deps.observer?.stepFinished({
        tool: step.tool,
        outcome: 'cancelled',
        durationMs,
        attempt: ctx.attempt,
      });
      log.info({}, 'step aborted: its run was cancelled');
      return { outcome: 'cancelled', reason: 'run cancelled' };
    }
    if (error.code === 'BUDGET_EXCEEDED') {
      const stopped = await stopForBudget(deps, claim, error, { log });
      if (stopped.superseded) throw superseded(ctx, 'its budget stop');
      deps.observer?.stepFinished({
        tool: step.tool,
        outcome: 'failed',
        durationMs,
        attempt: ctx.attempt,
      });
      if (stopped.runFailed) await enqueueCompensation(deps, run, `budget stop: ${error.message}`);
      return { outcome: 'budget-stopped', runFailed: stopped.runFailed, parked: stopped.parked };
    }
    if (ctx.signal.aborted && error.code === 'CANCELLED') {
      // The worker is shutting down: give the step back so the next worker runs it.
      const handedBack = await deps.repos.steps.cancelAttempt(runId, stepId, attemptId);
      if (handedBack.superseded) throw superseded(ctx, 'its hand-back');
      deps.observer?.stepFinished({
        tool: step.tool,
        outcome: 'cancelled',
        durationMs,
        attempt: ctx.attempt,
      });
      throw error;
    }
    const final = !error.retryable || ctx.isFinalAttempt;
    log[failureLevel(ctx.attempt, final)](
      { err: error, code: error.code, final },
      final ? 'step failed for good' : 'step failed, will retry',
    );
    const failed = await deps.repos.steps.fail(runId, stepId, attemptId, error.toJSON(), {
      final,
    });
    if (failed.superseded) throw superseded(ctx, 'its failure');
    const { runFailed } = failed;
    deps.observer?.stepFinished({
      tool: step.tool,
      outcome: final ? 'failed' : 'retried',
      durationMs,
      attempt: ctx.attempt,
    });
    if (runFailed) await enqueueCompensation(deps, run, `step ${stepId} failed: ${error.message}`);
    throw error;
  } finally {
    cancel?.release();
  }
}

/** Whether the run exists (a step of an existing run may be missing after a plan amendment). */
async function runExists(deps: StepJobDeps, runId: string): Promise<boolean> {
  return (await deps.repos.runs.get(runId)) !== undefined;
}

/**
 * The step was re-claimed by another worker while this one ran it (this worker's lock lapsed: a
 * blocked event loop, a long pause, a partition from Redis), so Postgres refused to record this
 * attempt's outcome. The error tells the runtime to leave the job to its new owner.
 */
function superseded(ctx: JobContext, what: string): Error {
  ctx.log.warn({}, `step re-claimed by another worker; ${what} is not recorded`);
  return ctx.superseded(
    `step re-claimed by another worker after this worker's lock lapsed; ${what} is not recorded`,
  );
}

/** A tool call's span attributes (GenAI semantic conventions' `execute_tool`); never its input. */
export function toolSpanAttributes(
  tool: string,
  runId: string,
  stepId: string,
  attempt: number,
  compensation = false,
): Record<string, string | number | boolean> {
  return {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': tool,
    'gen_ai.tool.call.id': `${runId}.${stepId}`,
    'agentry.step_id': stepId,
    'agentry.attempt': attempt,
    ...(compensation ? { 'agentry.compensation': true } : {}),
  };
}
