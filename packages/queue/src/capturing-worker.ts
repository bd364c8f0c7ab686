import {
  Worker,
  isNotConnectionError,
  type Job,
  type JobJson,
  type Processor,
  type Span,
  type WorkerOptions,
} from 'bullmq';
import { unreadableJobData } from './unreadable-job-data';

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
 * Redis did not record a job's outcome: it refused the write (`OOM`: memory full), or the job or
 * its lock was gone (Redis lost it; the lock lapsed and another worker took the job). For a
 * completion this is not the job's failure, so nothing is recorded for it. Either way the job —
 * if Redis still has it — comes back through the stalled checker, and the idempotent handler
 * finds its work done.
 */
export class OutcomeNotRecorded extends Error {
  override readonly name = 'OutcomeNotRecorded';
  constructor(
    readonly outcome: 'completion' | 'failure',
    readonly jobId: string | undefined,
    cause: Error,
  ) {
    super(`the ${outcome} of job ${jobId ?? '?'} was not recorded: ${cause.message}`, { cause });
  }
}

/** Called when Redis did not record an outcome (see {@link OutcomeNotRecorded}). */
export type NotRecordedListener = (err: OutcomeNotRecorded, job: Job) => void;

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
  private readonly onNotRecorded: NotRecordedListener;
  /** Jobs built by {@link createJob} from a hash whose data was not JSON. */
  private readonly unreadable = new WeakSet<Job>();

  constructor(
    name: string,
    processor: Processor,
    opts: WorkerOptions,
    onFailure: FailureListener,
    onNotRecorded: NotRecordedListener = () => undefined,
  ) {
    super(name, processor, { ...opts, autorun: false });
    this.onFailure = onFailure;
    this.onNotRecorded = onNotRecorded;
  }

  /**
   * BullMQ treats an error while recording a completion as the job's failure (it would count an
   * attempt, or dead-letter a job whose work is done). Such an error becomes
   * {@link OutcomeNotRecorded}, which {@link handleFailed} records nothing for. Connection
   * errors are left as they are: BullMQ retries those itself.
   */
  protected override async handleCompleted(
    result: unknown,
    job: Job,
    token: string,
    fetchNextCallback?: () => boolean,
    span?: Span,
  ): Promise<Job> {
    try {
      return await super.handleCompleted(result, job, token, fetchNextCallback, span);
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      if (!isNotConnectionError(err)) throw err;
      throw new OutcomeNotRecorded('completion', job.id, err);
    }
  }

  protected override async handleFailed(
    err: Error,
    job: Job,
    token: string,
    fetchNextCallback?: () => boolean,
    span?: Span,
  ): Promise<Job> {
    if (err instanceof OutcomeNotRecorded) {
      this.onNotRecorded(err, job);
      return undefined as unknown as Job; // BullMQ then fetches the next job as after any failure
    }
    // A control-flow error records nothing: BullMQ only fetches the next job.
    if (isControlFlowError(err))
      return super.handleFailed(err, job, token, fetchNextCallback, span);
    // While the backend closes BullMQ records nothing (the job stalls back to wait): report nothing.
    if (!this.backend.closing) {
      await this.onFailure(err, job);
      // Store the readable stand-in, so the failed job can be listed (Bull Board, the CLI) like
      // any other; the raw text is in it, and in the dead letter.
      if (this.unreadable.has(job)) await job.updateData(job.data as unknown);
    }
    try {
      return await super.handleFailed(err, job, token, fetchNextCallback, span);
    } catch (error) {
      const recording = error instanceof Error ? error : new Error(String(error));
      if (!isNotConnectionError(recording)) throw recording; // BullMQ retries those itself
      // Redis refused the write, or the job or its lock is gone: the job, if Redis still has
      // it, stalls back to wait and is delivered again (the failure was reported above).
      this.onNotRecorded(new OutcomeNotRecorded('failure', job.id, recording), job);
      return undefined as unknown as Job;
    }
  }

  /**
   * A job whose hash holds data that is not JSON (written to Redis by hand, not by a BullMQ
   * producer) makes BullMQ's `Job.fromJSON` throw while fetching it, after the job was
   * moved to active: it would stall back to wait and be fetched again for ever, in front of the
   * jobs behind it. Such a job is built from a readable stand-in holding its raw text
   * ({@link unreadableJobData}), which the runtime refuses as an invalid payload: dead-lettered,
   * kept for inspection, no retry.
   */
  protected override createJob(data: JobJson, jobId: string): Job {
    try {
      return super.createJob(data, jobId);
    } catch (error) {
      // `data` is still the hash's raw string here (options were decoded by the backend).
      const raw = data.data as unknown as string | undefined;
      const standIn = { ...data, data: JSON.stringify(unreadableJobData(raw, error)) };
      const job = super.createJob(standIn as JobJson, jobId);
      this.unreadable.add(job);
      return job;
    }
  }
}
