import {
  AppError,
  dispositionOf,
  isDatabaseUnavailable,
  isAppError,
  jobCatalog,
  toAppError,
  toError,
  type JobKind,
} from '@agentry/schema';
import { DelayedError, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { AttemptDeadlines, Expiring } from './attempt-deadlines';
import { payloadIds } from './dead-letter-capture';
import type { JobContext } from './job-context';
import { parseJobPayload } from './parse-job-payload';
import type { QueueLogger } from './queue-logger';
import type { QueueObserver } from './queue-observer';

/**
 * A delivery being handled by this worker: what shutdown, lock loss and the attempt timeout act
 * on. Its AbortController is created only when the handler first reads `ctx.signal` (most no-op
 * and fast handlers never do); an abort before that is remembered and the signal is born aborted.
 */
export class InFlight implements Expiring {
  /** Set once shutdown has aborted the signal. */
  cancelledByShutdown = false;
  /** Set when BullMQ could not renew the lock: the job is no longer ours to fail or hand back. */
  lockLost = false;
  /** Set once the job was put back on wait (by the runner or by a forced close). */
  handedBack = false;
  /** The attempt's timeout deadline (see `AttemptDeadlines`). */
  deadline = 0;
  /** Ends the attempt with an error, even if the handler never settles. Set by the runner. */
  fail: (err: Error) => void = () => undefined;
  private controller: AbortController | undefined;
  private aborted = false;
  private abortReason: unknown;

  constructor(
    readonly job: Job,
    readonly token: string,
    readonly startedAt: number,
    readonly timeoutMs: number,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Abort the handler's signal (first reason wins, as for an AbortController). */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  /** The attempt timed out: abort the signal and fail the attempt with TIMEOUT. */
  onDeadline(): void {
    const reason = new DOMException(`job timed out after ${this.timeoutMs} ms`, 'TimeoutError');
    this.abort(reason);
    this.fail(new AppError('TIMEOUT', reason.message, { cause: reason }));
  }
}

/** The handler's `ctx`: `signal` and the child `log` are created on first use. */
class RunContext implements JobContext {
  readonly jobId: string;
  readonly queue: string;
  readonly name: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly isFinalAttempt: boolean;
  readonly worker: string;
  private childLog: QueueLogger | undefined;

  constructor(
    private readonly delivery: InFlight,
    private readonly baseLog: QueueLogger,
    private readonly kind: JobKind,
    private readonly payload: unknown,
    queue: string,
    worker: string,
  ) {
    const job = delivery.job;
    this.jobId = job.id ?? '';
    this.queue = queue;
    this.name = job.name;
    this.attempt = job.attemptsMade + 1;
    this.maxAttempts = job.opts.attempts ?? 1;
    this.isFinalAttempt = this.attempt >= this.maxAttempts;
    this.worker = worker;
  }

  get signal(): AbortSignal {
    return this.delivery.signal;
  }

  superseded(reason: string): Error {
    this.delivery.lockLost = true;
    return new AppError('CANCELLED', reason, { details: { superseded: true } });
  }

  get log(): QueueLogger {
    this.childLog ??= this.baseLog.child({
      jobId: this.jobId,
      queue: this.queue,
      attempt: this.attempt,
      ...payloadIds(this.kind, this.jobId, this.payload),
      ...tenantOf(this.payload),
    });
    return this.childLog;
  }
}

/** The tenant a payload names (a plan job's intent, or a step or compensate job's `tenantId`). */
function tenantOf(payload: unknown): { tenantId?: string } {
  const p = (payload ?? {}) as { tenantId?: unknown; intent?: { tenantId?: unknown } };
  const tenantId = p.intent?.tenantId ?? p.tenantId;
  return typeof tenantId === 'string' ? { tenantId } : {};
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
  deadlines: AttemptDeadlines;
  /** See `WorkerRuntimeOptions.scrubError`. */
  scrubError?: (error: Error) => Error;
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

/** How many times in a row a job may be postponed while the database is unavailable. */
export const maxPostponements = 100;

/**
 * The delay of postponement `n` (0-based): 0.5 s doubling up to 5 s, the upper half jittered, so
 * a fleet's postponed jobs do not all come back at once. With {@link maxPostponements}, a job
 * waits out 4 to 8 minutes of database outage before its attempts start to count again.
 */
export function postponementDelayMs(n: number, random: () => number = Math.random): number {
  const base = Math.min(5_000, 500 * 2 ** Math.min(n, 10));
  return Math.round(base / 2 + (random() * base) / 2);
}

/**
 * The handler failed because the fleet's database cannot be reached: not a fault of the job, so
 * it goes back to the delayed set without using an attempt (`moveToDelayed` skips the count) and
 * is tried again later — at most {@link maxPostponements} times in a row, counted from BullMQ's
 * `attemptsStarted` (every start) less `attemptsMade` (starts that used an attempt). Past that,
 * or when Redis refuses the move, false: the failure takes the ordinary path and uses an attempt.
 */
async function postpone(f: InFlight, ctx: RunContext): Promise<boolean> {
  const { job } = f;
  const postponed = Math.max(0, (job.attemptsStarted ?? 0) - job.attemptsMade - 1);
  if (postponed >= maxPostponements) return false;
  const delayMs = postponementDelayMs(postponed);
  try {
    await job.moveToDelayed(Date.now() + delayMs, f.token);
  } catch (err) {
    ctx.log.warn({ err }, 'could not postpone the job; its failure uses an attempt');
    return false;
  }
  ctx.log.info(
    { delayMs, postponed: postponed + 1, maxPostponements },
    'database unavailable: job postponed without using an attempt',
  );
  return true;
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
): (job: Job, token?: string) => Promise<unknown> {
  const { queue, log, observer, inFlight, clock, deadlines } = deps;
  const report = (
    job: Job,
    outcome: 'completed' | 'cancelled' | 'postponed',
    startedAt: number,
  ): void => {
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

  // Two parameters on purpose: BullMQ creates an AbortController per job for a processor that
  // takes a third (`signal`), only for `worker.cancelJob`, which this runtime never exposes.
  return async (job, token) => {
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

    const timeoutMs = deps.timeoutsMs[parsed.kind] ?? jobCatalog[parsed.kind].timeoutMs;
    const entry = new InFlight(job, token ?? '0', clock(), timeoutMs);
    const ctx = new RunContext(entry, log, parsed.kind, parsed.payload, queue, deps.worker);
    inFlight.set(jobId, entry);
    deadlines.track(entry, timeoutMs);
    let failed = false;
    try {
      // One promise per job: settles with the handler, or rejects early on timeout.
      const result = await new Promise<unknown>((resolve, reject) => {
        entry.fail = reject;
        handler(parsed.payload, ctx).then(resolve, reject);
      });
      report(job, 'completed', entry.startedAt);
      return result;
    } catch (err) {
      failed = true;
      if (entry.lockLost) {
        // Record nothing: the stalled checker or another worker owns the job now (failing it
        // here would dead-letter a job another worker may be running; handing it back would
        // move it from under that worker).
        ctx.log.warn({}, 'job lock lost, leaving it to the stalled checker');
        throw new WaitingError();
      }
      if (entry.cancelledByShutdown) {
        await handBack(entry, log);
        report(job, 'cancelled', entry.startedAt);
        ctx.log.info({}, 'job cancelled by shutdown, back on wait');
        throw new WaitingError();
      }
      const error = deps.scrubError ? deps.scrubError(toError(err)) : toError(err);
      const appError = toAppError(error);
      if (isDatabaseUnavailable(appError) && (await postpone(entry, ctx))) {
        report(job, 'postponed', entry.startedAt);
        throw new DelayedError();
      }
      if (dispositionOf(appError) === 'fatal') throw unrecoverable(appError);
      throw isAppError(error) ? error : toError(error);
    } finally {
      deadlines.untrack(entry, timeoutMs);
      if (!failed) inFlight.delete(jobId);
      // Keep the record until BullMQ's failure handling (which reads the duration) has run.
      else
        setImmediate(() => {
          if (inFlight.get(jobId) === entry) inFlight.delete(jobId);
        });
    }
  };
}
