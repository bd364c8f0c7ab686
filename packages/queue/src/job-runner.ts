import {
  AppError,
  dispositionOf,
  isAppError,
  jobCatalog,
  toAppError,
  toError,
  type JobKind,
} from '@agentry/schema';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { payloadIds } from './dead-letter-capture';
import type { JobContext } from './job-context';
import { parseJobPayload } from './parse-job-payload';
import type { QueueLogger } from './queue-logger';
import type { QueueObserver } from './queue-observer';

/** A delivery being handled by this worker. */
export interface InFlight {
  job: Job;
  token: string;
  controller: AbortController;
  startedAt: number;
  /** Set once shutdown has aborted the signal. */
  cancelledByShutdown: boolean;
  /** Set when BullMQ could not renew the lock: the job is no longer ours to fail or hand back. */
  lockLost: boolean;
  /** Set once the job was put back on wait (by the runner or by a forced close). */
  handedBack: boolean;
  settled: Promise<unknown>;
}

type AnyHandler = (payload: unknown, ctx: JobContext) => Promise<unknown>;

export interface JobRunnerDeps {
  queue: string;
  handlers: Partial<Record<JobKind, AnyHandler>>;
  timeoutsMs: Partial<Record<JobKind, number>>;
  log: QueueLogger;
  observer: QueueObserver | undefined;
  worker: string;
  clock: () => number;
  inFlight: Map<string, InFlight>;
}

/** The abort reason of a shutdown cancellation. */
export function shutdownReason(): AppError {
  return new AppError('CANCELLED', 'worker shutting down', { details: { shutdown: true } });
}

/** `[CODE] message`, kept in BullMQ's failedReason so the code survives into Bull Board. */
export function unrecoverable(error: AppError): UnrecoverableError {
  const e = new UnrecoverableError(`[${error.code}] ${error.message}`);
  e.cause = error;
  return e;
}

/** Put a delivery back on wait without using an attempt; never throws (logs instead). */
export async function handBack(f: InFlight, log: QueueLogger): Promise<void> {
  if (f.handedBack) return;
  f.handedBack = true;
  try {
    await f.job.moveToWait(f.token);
  } catch (err) {
    // Lock already gone: the stalled checker returns the job to wait instead.
    log.warn({ jobId: f.job.id, err }, 'could not hand the job back; the stalled checker will');
  }
}

/**
 * The BullMQ processor: parse on dequeue, run the handler with a signal and the catalog timeout,
 * map errors at the boundary.
 *
 * - Unknown name / invalid payload → `UnrecoverableError` (cause: AppError VALIDATION with issues):
 *   never retried, dead-lettered by the failure handler. Whatever shape `job.data` has.
 * - Timeout → the signal aborts with a `TimeoutError` and the attempt fails at once with
 *   AppError TIMEOUT (retryable), even if the handler ignores its signal.
 * - `dispositionOf(err) === 'fatal'` → `UnrecoverableError('[CODE] message')`; otherwise the
 *   error is rethrown and BullMQ retries with backoff.
 * - Lock lost (renewal failed) → signal aborted, nothing recorded; the stalled checker owns it.
 * - Cancelled by shutdown → the job is moved back to wait with its lock token and `WaitingError`
 *   tells BullMQ to record nothing: no failure, no attempt used, first in line for the next worker.
 */
export function createJobRunner(
  deps: JobRunnerDeps,
): (job: Job, token?: string, signal?: AbortSignal) => Promise<unknown> {
  const { queue, log, observer, inFlight, clock } = deps;
  const report = (job: Job, outcome: 'completed' | 'cancelled', startedAt: number): void => {
    try {
      observer?.jobFinished?.({
        queue,
        job: job.name,
        outcome,
        durationMs: clock() - startedAt,
        attempts: job.attemptsMade + 1,
      });
    } catch (err) {
      log.warn({ err }, 'observer jobFinished threw');
    }
  };

  return async (job, token, bullSignal) => {
    const jobId = job.id ?? '';
    const parsed = parseJobPayload(queue, job.name, job.data);
    if (!parsed.ok) {
      throw unrecoverable(
        new AppError('VALIDATION', parsed.reason, { details: { issues: parsed.issues } }),
      );
    }
    const handler = deps.handlers[parsed.kind];
    if (!handler)
      throw unrecoverable(new AppError('INTERNAL', `no handler for job kind ${parsed.kind}`));

    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? 1;
    const timeoutMs = deps.timeoutsMs[parsed.kind] ?? jobCatalog[parsed.kind].timeoutMs;
    const controller = new AbortController();
    const onBullAbort = (): void =>
      controller.abort(bullSignal?.reason ?? new AppError('CANCELLED', 'job cancelled'));
    bullSignal?.addEventListener('abort', onBullAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const reason = new DOMException(`job timed out after ${timeoutMs} ms`, 'TimeoutError');
        controller.abort(reason);
        reject(new AppError('TIMEOUT', reason.message, { cause: reason }));
      }, timeoutMs);
    });
    timedOut.catch(() => undefined);

    const ctx: JobContext = {
      jobId,
      queue,
      name: job.name,
      attempt,
      maxAttempts,
      isFinalAttempt: attempt >= maxAttempts,
      signal: controller.signal,
      log: log.child({ jobId, queue, attempt, ...payloadIds(parsed.kind, jobId, parsed.payload) }),
      worker: deps.worker,
    };
    const startedAt = clock();
    const running = handler(parsed.payload, ctx);
    const entry: InFlight = {
      job,
      token: token ?? '0',
      controller,
      startedAt,
      cancelledByShutdown: false,
      lockLost: false,
      handedBack: false,
      settled: running.catch(() => undefined),
    };
    inFlight.set(jobId, entry);
    try {
      const result = await Promise.race([running, timedOut]);
      report(job, 'completed', startedAt);
      return result;
    } catch (err) {
      if (entry.cancelledByShutdown) {
        await handBack(entry, log);
        report(job, 'cancelled', startedAt);
        ctx.log.info({}, 'job cancelled by shutdown, back on wait');
        throw new WaitingError();
      }
      if (entry.lockLost) {
        // Record nothing: the stalled checker owns the job now (failing it here would dead-letter
        // a job another worker may be running).
        ctx.log.warn({}, 'job lock lost, leaving it to the stalled checker');
        throw new WaitingError();
      }
      const appError = toAppError(err);
      if (dispositionOf(appError) === 'fatal') throw unrecoverable(appError);
      throw isAppError(err) ? err : toError(err);
    } finally {
      clearTimeout(timer);
      bullSignal?.removeEventListener('abort', onBullAbort);
      // Keep the record until BullMQ's failure handling (which reads the duration) has run.
      setImmediate(() => {
        if (inFlight.get(jobId) === entry) inFlight.delete(jobId);
      });
    }
  };
}
