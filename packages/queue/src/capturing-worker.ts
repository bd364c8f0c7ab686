import { Worker, type Job, type Processor, type Span, type WorkerOptions } from 'bullmq';

/** Errors BullMQ uses for control flow (move to wait/delayed/children, rate limit): not failures. */
export function isControlFlowError(err: Error): boolean {
  return (
    ['DelayedError', 'WaitingError', 'WaitingChildrenError', 'RateLimitError'].includes(err.name) ||
    err.message === 'bullmq:rateLimitExceeded'
  );
}

/** Called for every real failure, BEFORE BullMQ moves the job to failed or delayed. */
export type FailureListener = (err: Error, job: Job) => Promise<void>;

/**
 * A BullMQ `Worker` that reports every failure before BullMQ records it.
 *
 * `handleFailed` is the one place every failed delivery passes through: errors thrown by the
 * processor and "deferred failures" that never reach the processor — in BullMQ 6 the stalled
 * checker does not fail a job itself, it marks it (`defa` = "job stalled more than allowable
 * limit") and moves it to wait; the next worker that takes it calls `handleFailed` with an
 * `UnrecoverableError` without running the processor. Hooking here (rather than the `failed`
 * event, emitted after the job is already in the failed set) means the listener runs while this
 * worker still owns the job: if the listener throws, or the process dies, the job is not failed
 * and comes back through the stalled checker, so nothing is lost.
 *
 * Relies on the protected `handleFailed(err, job, token, fetchNext?, span?)` of bullmq 6.7 (pinned
 * in the workspace catalog; the worker-runtime tests cover it).
 */
export class CapturingWorker extends Worker {
  private readonly onFailure: FailureListener;

  constructor(name: string, processor: Processor, opts: WorkerOptions, onFailure: FailureListener) {
    super(name, processor, { ...opts, autorun: false });
    this.onFailure = onFailure;
  }

  protected override async handleFailed(
    err: Error,
    job: Job,
    token: string,
    fetchNextCallback?: () => boolean,
    span?: Span,
  ): Promise<Job> {
    // While the backend closes BullMQ records nothing (the job stalls back to wait): report nothing.
    if (!this.backend.closing && !isControlFlowError(err)) await this.onFailure(err, job);
    return super.handleFailed(err, job, token, fetchNextCallback, span);
  }
}
