import {
  AppError,
  jobCatalog,
  type JobKind,
  type JobPayloadInput,
  type QueueName,
} from '@agentry/schema';
import type { Queue } from 'bullmq';
import { createAddBatcher } from './add-batcher';
import { jobOptionsFor } from './job-options-for';
import { createQueueCache } from './queue-cache';
import type { RedisClient } from './redis-client';
import { parsePayloadOf } from './parse-job-payload';
import { noopLogger, type QueueLogger } from './queue-logger';
import { toQueueError } from './to-queue-error';
import { withDeadline } from './with-deadline';

export interface EnqueueOptions {
  /** Deterministic id from `jobIds` (no ":" and not an integer: BullMQ refuses both). */
  jobId: string;
  /** Overrides the catalog's attempts (a step's own `maxAttempts`). */
  attempts?: number;
  delayMs?: number;
  priority?: number;
}

export interface EnqueueResult {
  jobId: string;
  /** False when a job with this id already existed, so the enqueue was a no-op. */
  created: boolean;
}

export interface Producer {
  /**
   * Validate `payload` with the catalog schema, then add the job with the catalog's attempts,
   * exponential backoff and retention under `options.jobId`.
   *
   * Idempotent: while a job with the same id is retained (waiting, active, delayed, failed up to
   * 14 days, completed up to a day) a repeated enqueue changes nothing and reports
   * `created: false`. The no-op itself is atomic (BullMQ's add script). One Redis round trip:
   * `created` comes from an `EXISTS` pipelined just before the add on the same connection; the
   * enqueues made while one is in flight go together, in two socket writes (`createAddBatcher`).
   * Concurrent enqueues of one id through this producer are serialised, so exactly one reports
   * `true`; against another process it can be wrong in a race of well under a millisecond (both
   * report `true`; or a job removed between the two commands is re-added but reported `false`).
   *
   * @throws AppError `VALIDATION` (with `details.issues`) for an invalid payload, job id or
   *   attempts, before touching Redis.
   * @throws AppError `UNAVAILABLE` when Redis does not answer within `timeoutMs` (never hangs).
   */
  enqueue<K extends JobKind>(
    kind: K,
    payload: JobPayloadInput<K>,
    options: EnqueueOptions,
  ): Promise<EnqueueResult>;
  /**
   * Remove the job with this id when it is in one of `states` (e.g. `['completed', 'failed']`
   * for a finished job whose id must be used again, or `['waiting', 'delayed', 'prioritized']`
   * to take back work not started). Answers the state it found (`absent` when there is no such
   * job) and whether it removed it; an active (locked) job is never removed.
   * @throws AppError `UNAVAILABLE` when Redis does not answer within `timeoutMs`.
   */
  remove(
    kind: JobKind,
    jobId: string,
    states: readonly string[],
  ): Promise<{ state: string; removed: boolean }>;
  /** The BullMQ `Queue` for a name (one per name, created on first use, closed by `close`). */
  queue(name: QueueName): Queue;
  /** Close the queues. Safe to call twice. Does not close `connection` (the caller owns it). */
  close(): Promise<void>;
}

export interface ProducerOptions {
  /** A `producer` connection from `createRedisConnection`; owned by the caller. */
  connection: RedisClient;
  /** Key prefix, from `redisKeyPrefix()`. */
  prefix: string;
  log?: QueueLogger;
  /** Bound on one enqueue, connecting included. @default 2000 */
  timeoutMs?: number;
  clock?: () => number;
}

/** Check a custom job id the way BullMQ will, but as a VALIDATION error before any I/O. */
export function assertJobId(jobId: string): void {
  if (
    jobId === '' ||
    jobId.includes(':') ||
    `${Number.parseInt(jobId, 10)}` === jobId ||
    jobId.length > 512
  ) {
    throw new AppError(
      'VALIDATION',
      `invalid job id ${JSON.stringify(jobId.slice(0, 80))}: non-empty, no ":", not an integer, ≤ 512 chars`,
    );
  }
}

/**
 * Make sure a fail-fast client is connected: wait for a first connection still in progress (up to
 * the caller's deadline), but fail at once while it is reconnecting, i.e. Redis is down.
 */
async function connected(client: RedisClient): Promise<void> {
  const status = client.status;
  if (status === 'ready') return;
  if (status === 'wait') return void (await client.connect());
  if (status !== 'connecting' && status !== 'connect') {
    throw new AppError('UNAVAILABLE', `redis is not connected (${status})`);
  }
  await new Promise<void>((resolve, reject) => {
    const onReady = (): void => {
      client.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      client.off('ready', onReady);
      reject(new AppError('UNAVAILABLE', 'redis connection failed'));
    };
    client.once('ready', onReady);
    client.once('close', onClose);
  });
}

/** A typed producer over the job catalog. See {@link Producer}. */
export function createProducer(options: ProducerOptions): Producer {
  const { connection, prefix } = options;
  const log = options.log ?? noopLogger;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const clock = options.clock ?? Date.now;
  const queues = createQueueCache(connection, prefix, log);
  const adding = new Map<string, Promise<EnqueueResult>>();
  const addJob = createAddBatcher(connection);
  let closing: Promise<void> | undefined;

  const queue = (name: QueueName): Queue => {
    if (closing) throw new AppError('UNAVAILABLE', 'producer is closed');
    return queues.get(name);
  };

  const enqueue = async <K extends JobKind>(
    kind: K,
    payload: JobPayloadInput<K>,
    o: EnqueueOptions,
  ): Promise<EnqueueResult> => {
    const definition = jobCatalog[kind];
    const parsed = parsePayloadOf(kind, payload);
    if (!parsed.ok) {
      throw new AppError('VALIDATION', `${kind}: ${parsed.reason}`, {
        details: { issues: parsed.issues },
      });
    }
    assertJobId(o.jobId);
    if (o.attempts !== undefined && (!Number.isInteger(o.attempts) || o.attempts < 1)) {
      throw new AppError('VALIDATION', `attempts must be an integer ≥ 1, got ${o.attempts}`);
    }
    const q = queue(definition.queue);
    const jobKey = q.toKey(o.jobId);
    const add = async (): Promise<EnqueueResult> => {
      await connected(connection);
      // EXISTS is written to the socket before the add script (same connection, commands run in
      // the order sent), and neither waits for the other's reply; adds that overlap go together.
      const created = await addJob({
        queue: q,
        name: definition.name,
        data: parsed.payload,
        opts: { ...jobOptionsFor(kind, o.jobId, o), timestamp: clock() },
        jobKey,
      });
      log.debug({ kind, jobId: o.jobId, created }, 'job enqueued');
      return { jobId: o.jobId, created };
    };
    try {
      return await withDeadline(timeoutMs, `enqueue ${kind}`, () => {
        // Enqueues of one id from this producer run one after the other, so that a concurrent
        // repeat sees the first one's job (see `add`).
        const previous = adding.get(jobKey);
        const run = previous ? previous.then(add, add) : add();
        adding.set(jobKey, run);
        void run
          .finally(() => {
            if (adding.get(jobKey) === run) adding.delete(jobKey);
          })
          .catch(() => undefined);
        return run;
      });
    } catch (err) {
      throw toQueueError(err, `enqueue ${kind}`);
    }
  };

  const remove: Producer['remove'] = async (kind, jobId, states) => {
    const q = queue(jobCatalog[kind].queue);
    try {
      return await withDeadline(timeoutMs, `remove ${kind}`, async () => {
        await connected(connection);
        const job = await q.getJob(jobId);
        if (!job) return { state: 'absent', removed: false };
        const state = await job.getState();
        if (!states.includes(state)) return { state, removed: false };
        // Refused (false) when a worker took it meanwhile: it is then active, not removable.
        const removed = (await q.remove(jobId)) === 1;
        log.debug({ kind, jobId, state, removed }, 'job removed');
        return { state, removed };
      });
    } catch (err) {
      throw toQueueError(err, `remove ${kind}`);
    }
  };

  const close = (): Promise<void> => (closing ??= queues.closeAll());

  return { enqueue, remove, queue, close };
}
