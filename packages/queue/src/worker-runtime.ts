import { hostname } from 'node:os';
import {
  AppError,
  jobCatalog,
  queueNames,
  type JobKind,
  type JobKindOn,
  type QueueName,
} from '@agentry/schema';
import { Queue, isNotConnectionError } from 'bullmq';
import { createAttemptDeadlines } from './attempt-deadlines';
import { CapturingWorker, OutcomeNotRecorded } from './capturing-worker';
import { createFailureHandler } from './dead-letter-capture';

import type { DeadLetterStore, FailedForGood } from './dead-letter-store';
import type { HandlerMap, JobContext } from './job-context';
import { completedRetention, failedRetention } from './job-options-for';
import { createJobRunner, handBack, shutdownReason, type InFlight } from './job-runner';
import type { QueueLogger } from './queue-logger';
import type { QueueObserver } from './queue-observer';
import type { RedisClient } from './redis-client';
import { createRedisConnection, type RedisAuth, type RedisEndpoint } from './redis-connection';
import { retryBackoff, type RetryBackoffOptions } from './retry-backoff';
import { isRedisOutOfMemory } from './to-queue-error';

export interface WorkerRuntimeOptions<Q extends QueueName> {
  queue: Q;
  /**
   * Where to connect — a Redis URL or a Redis Cluster (`url: RedisEndpoint`; a `worker` connection
   * is created and owned) — or a factory of a connection (also owned).
   */
  connection: { url: RedisEndpoint; auth?: RedisAuth } | (() => RedisClient);
  /** Key prefix, from `redisKeyPrefix()`. */
  prefix: string;
  /** One handler per job kind on `queue`. */
  handlers: HandlerMap<Q>;
  /** Per-kind override of the catalog's `timeoutMs` (ops tuning, tests). */
  timeoutsMs?: Partial<Record<JobKindOn<Q>, number>>;
  /** Jobs run at once by this worker. @default 1 */
  concurrency?: number;
  log: QueueLogger;
  observer?: QueueObserver;
  deadLetters: DeadLetterStore;
  hooks?: {
    /**
     * Called once the dead letter is stored, so the app can fail the run. Must be idempotent:
     * it may be called again for the same failure after a crash. Throwing leaves the job to be
     * redelivered (and captured again).
     */
    onFailedForGood?(f: FailedForGood<JobKindOn<Q>>): Promise<void>;
  };
  /** BullMQ lock duration; a job whose lock lapses is considered stalled. @default 30000 */
  lockDurationMs?: number;
  /** How often the stalled checker runs. @default 30000 */
  stalledIntervalMs?: number;
  /** Stalls a job may survive before it fails for good (and is dead-lettered). @default 1 */
  maxStalledCount?: number;
  /** @default `<hostname>.<pid>` */
  workerName?: string;
  /** Settings of the backoff between attempts of catalog jobs (see `retryBackoff`). */
  retryBackoff?: RetryBackoffOptions;
  /**
   * Applied to a handler's error before BullMQ, the dead-letter store or the log sees it: the
   * secret store's scrubber (`scrubDeep`), so no resolved secret reaches Redis or a dead letter.
   */
  scrubError?: (error: Error) => Error;
  clock?: () => number;
}

export interface CloseOptions {
  /** Total time `close` may take; keep it under the pod's termination grace period. */
  deadlineMs: number;
  /** Part of the deadline left to cancelled handlers to unwind. @default min(2000, deadlineMs / 4) */
  graceMs?: number;
}

export interface WorkerRuntime {
  /** Connect and start taking jobs; resolves once the worker's connections are ready. */
  start(): Promise<void>;
  /** True between `start()` and `close()`. */
  isRunning(): boolean;
  /** For /readyz: throws unless running with both worker connections ready. */
  ready(): Promise<void>;
  /**
   * Graceful drain. Stops taking jobs at once, lets in-flight jobs finish until
   * `deadlineMs - graceMs`, then aborts their signals (reason AppError CANCELLED, details.shutdown)
   * and gives them `graceMs` to unwind. A cancelled job is moved back to wait with its lock token
   * (`job.moveToWait(token)` + `WaitingError`): it is not failed, uses no attempt and is the next
   * job a worker takes. A handler that ignores its signal past the grace has its job handed back
   * the same way before the connections are force-closed (it may still run on here until the
   * process exits: handlers must be idempotent). Reports `observer.drained`. Safe to call twice.
   */
  close(options?: CloseOptions): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const sleep = (ms: number): Promise<'timeout'> =>
  new Promise((r) => setTimeout(() => r('timeout'), ms).unref());

/**
 * A BullMQ worker for one agentry queue, typed from the job catalog.
 *
 * Dead letters: every job that fails for good — retries exhausted, fatal error, invalid payload or
 * unknown name, stalled more than `maxStalledCount` times — is captured exactly once per failure
 * into `deadLetters` (idempotent store, at-least-once calls), added to `agentry.dlq`, and passed to
 * `hooks.onFailedForGood`. Capture runs inside the worker's failure path *before* BullMQ records
 * the failure (see `CapturingWorker`), so a crash at any point leaves the job active, it stalls
 * back to wait, and is captured on its next delivery.
 */
export function createWorkerRuntime<Q extends QueueName>(
  options: WorkerRuntimeOptions<Q>,
): WorkerRuntime {
  const { queue, prefix, log } = options;
  const clock = options.clock ?? Date.now;
  const workerName = options.workerName ?? `${hostname()}.${process.pid}`;
  const handlers = options.handlers as unknown as Partial<
    Record<JobKind, (p: unknown, c: JobContext) => Promise<unknown>>
  >;
  for (const kind of Object.keys(jobCatalog) as JobKind[]) {
    const runsHere = jobCatalog[kind].queue === queue;
    if (runsHere && typeof handlers[kind] !== 'function')
      throw new Error(`no handler for ${kind} on ${queue}`);
    if (!runsHere && handlers[kind] !== undefined)
      throw new Error(`handler for ${kind} given to a worker on ${queue}`);
  }

  const connection =
    typeof options.connection === 'function'
      ? options.connection()
      : createRedisConnection(options.connection.url, 'worker', {
          name: `${workerName}.${queue}`,
          log,
          ...(options.connection.auth === undefined ? {} : { auth: options.connection.auth }),
        });
  const inFlight = new Map<string, InFlight>();
  const deadlines = createAttemptDeadlines();
  let dlq: Queue | undefined;
  const dlqQueue = (): Queue => {
    dlq ??= new Queue(queueNames.dlq, { connection, prefix });
    return dlq;
  };

  const processor = createJobRunner({
    queue,
    handlers,
    timeoutsMs: (options.timeoutsMs ?? {}) as Partial<Record<JobKind, number>>,
    log,
    observer: options.observer,
    worker: workerName,
    clock,
    inFlight,
    deadlines,
    ...(options.scrubError ? { scrubError: options.scrubError } : {}),
  });
  const onFailure = createFailureHandler({
    queue,
    store: options.deadLetters,
    dlq: dlqQueue,
    log,
    observer: options.observer,
    onFailedForGood: options.hooks?.onFailedForGood as
      ((f: FailedForGood) => Promise<void>) | undefined,
    durationOf: (jobId) => {
      const f = inFlight.get(jobId);
      return f ? clock() - f.startedAt : 0;
    },
    clock,
  });
  const worker = new CapturingWorker(
    queue,
    processor,
    {
      connection,
      prefix,
      name: workerName,
      concurrency: options.concurrency ?? 1,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 1,
      settings: { backoffStrategy: retryBackoff(options.retryBackoff) },
      // For jobs added without agentry's options (raw BullMQ producers in other languages).
      removeOnComplete: completedRetention,
      removeOnFail: failedRetention,
    },
    onFailure,
    (err, job) =>
      log.warn(
        { jobId: job.id, queue, outcome: err.outcome, err: err.cause },
        'job outcome not recorded by Redis; if Redis still has the job it is delivered again',
      ),
  );
  // Redis unreachable or out of memory: every attempt (reconnect, fetch) fails the same way until
  // it recovers, and the worker retries by itself: one warning per episode (again after a minute).
  let episode = { kind: '', at: 0 };
  const recovered = () => (episode = { kind: '', at: 0 });
  connection.on('ready', recovered);
  worker.on('completed', recovered);
  worker.on('error', (err) => {
    if (err instanceof OutcomeNotRecorded) return; // logged by the listener above
    const oom = isRedisOutOfMemory(err);
    if (oom || !isNotConnectionError(err)) {
      const kind = oom ? 'oom' : `connection: ${err.message}`;
      if (kind === episode.kind && clock() - episode.at < 60_000) return;
      episode = { kind, at: clock() };
      log.warn(
        { err, queue },
        oom
          ? 'redis is out of memory: jobs cannot be taken or finished until memory is freed'
          : 'worker cannot reach redis; reconnecting',
      );
      return;
    }
    log.error({ err, queue }, 'worker error');
  });
  worker.on('stalled', (jobId) =>
    log.warn({ jobId, queue }, 'job stalled (lock lapsed), moved back to wait'),
  );
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const jobId of jobIds) {
      const f = inFlight.get(jobId);
      if (!f) continue;
      f.lockLost = true;
      f.abort(new AppError('CANCELLED', 'job lock lost; another worker may run it'));
    }
  });

  let running: Promise<void> | undefined;
  let closing: Promise<void> | undefined;

  const start = async (): Promise<void> => {
    if (closing) throw new Error('worker runtime is closed');
    running ??= worker
      .run()
      .catch((err: unknown) => log.error({ err, queue }, 'worker loop failed'));
    await worker.waitUntilReady();
    log.info({ queue, worker: workerName, concurrency: worker.concurrency }, 'worker started');
  };

  const ready = async (): Promise<void> => {
    if (!running || closing) throw new Error('worker is not running');
    const clients = [worker.backend.client, worker.backend.blockingClient];
    for (const client of clients) {
      const c = client ? await Promise.race([client, sleep(1_000)]) : undefined;
      if (c === 'timeout' || (c !== undefined && c.status !== 'ready'))
        throw new Error('worker redis connection is not ready');
    }
  };

  const drain = async (o: CloseOptions): Promise<void> => {
    const startedAt = clock();
    const graceMs = Math.max(
      0,
      Math.min(o.graceMs ?? Math.min(2_000, o.deadlineMs / 4), o.deadlineMs),
    );
    const workerClosed = worker.close().then(() => 'closed' as const);
    workerClosed.catch(() => undefined);
    let cancelled = 0;
    if ((await Promise.race([workerClosed, sleep(o.deadlineMs - graceMs)])) === 'timeout') {
      for (const f of inFlight.values()) {
        f.cancelledByShutdown = true;
        f.abort(shutdownReason());
        cancelled += 1;
      }
      log.warn({ queue, cancelled }, 'drain deadline reached, cancelling in-flight jobs');
      if ((await Promise.race([workerClosed, sleep(graceMs)])) === 'timeout') {
        const stuck = [...inFlight.values()];
        log.error(
          { queue, jobIds: stuck.map((f) => f.job.id) },
          'handlers ignored cancellation; handing jobs back and force-closing',
        );
        await Promise.all(stuck.map((f) => handBack(f, log)));
        await worker.disconnect().catch(() => undefined);
      }
    }
    deadlines.close();
    await dlq?.close().catch((err: unknown) => log.warn({ err }, 'dlq queue close failed'));
    await connection.quit().catch(() => connection.disconnect());
    const durationMs = clock() - startedAt;
    log.info({ queue, durationMs, cancelled }, 'worker drained');
    try {
      options.observer?.drained?.({ durationMs, cancelled });
    } catch (err) {
      log.warn({ err }, 'observer drained threw');
    }
  };

  const close = (o: CloseOptions = { deadlineMs: 30_000 }): Promise<void> => {
    closing ??= drain(o);
    return closing;
  };

  return {
    start,
    isRunning: () => running !== undefined && closing === undefined && worker.isRunning(),
    ready,
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}
