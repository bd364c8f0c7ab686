import { AppError, jobIds, queueNames, type QueueName } from '@agentry/schema';
import type { Job } from 'bullmq';
import type { RedisClient } from './redis-client';
import type {
  DeadLetterAdminStore,
  DeadLetterQuery,
  DeadLetterRecord,
} from './dead-letter-admin-store';
import { jobOptionsFor } from './job-options-for';
import { createQueueCache } from './queue-cache';
import { parseJobPayload } from './parse-job-payload';
import { noopLogger, type QueueLogger } from './queue-logger';
import { toQueueError } from './to-queue-error';

export interface ReplayResult {
  id: string;
  sourceQueue: string;
  jobId: string;
  /** `retried`: the failed job was still in its queue and was retried with attempts reset. `added`: it was gone and was added again under its original id. */
  mode: 'retried' | 'added';
}

export interface DeadLetterAdmin {
  list(q?: DeadLetterQuery): Promise<DeadLetterRecord[]>;
  get(id: string): Promise<DeadLetterRecord | undefined>;
  /**
   * Put a dead letter's job back on its source queue, then mark it replayed and remove its entry
   * from `agentry.dlq`.
   * @throws AppError NOT_FOUND (no such record), VALIDATION (payload or job unknown to the catalog,
   *   with `details.issues`: such a job cannot be replayed), CONFLICT (the job is in its queue and
   *   not failed, e.g. already replayed and waiting), UNAVAILABLE (Redis down).
   */
  replay(id: string): Promise<ReplayResult>;
  /**
   * Mark a dead letter replayed (unless it is already) and remove its `agentry.dlq` entry without
   * touching its job: for a job that was put back another way (a failed run resumed from its step).
   */
  acknowledge(id: string): Promise<void>;
  /** Delete records from the store and their entries from `agentry.dlq`; returns the store's count. */
  purge(q: { ids?: string[]; olderThan?: Date }): Promise<number>;
  /** Close the queues (not the connection). Safe to call twice. */
  close(): Promise<void>;
}

export interface DeadLetterAdminOptions {
  /** A `producer` connection; owned by the caller. */
  connection: RedisClient;
  prefix: string;
  store: DeadLetterAdminStore;
  log?: QueueLogger;
}

/** Operator actions on dead letters: list, replay, purge. See {@link DeadLetterAdmin}. */
export function createDeadLetterAdmin(options: DeadLetterAdminOptions): DeadLetterAdmin {
  const { connection, prefix, store } = options;
  const log = options.log ?? noopLogger;
  const queues = createQueueCache(connection, prefix, log);
  const queue = (name: string) => queues.get(name);
  const redis = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toQueueError(err, what);
    }
  };

  const replay = async (id: string): Promise<ReplayResult> => {
    const record = await store.get(id);
    if (!record) throw new AppError('NOT_FOUND', `no dead letter ${id}`);
    const parsed = parseJobPayload(record.sourceQueue, record.jobName, record.payload);
    if (!parsed.ok) {
      throw new AppError('VALIDATION', `dead letter ${id} cannot be replayed: ${parsed.reason}`, {
        details: { issues: parsed.issues },
      });
    }
    const source = queue(record.sourceQueue as QueueName);
    const mode = await redis('replay', async () => {
      const job = (await source.getJob(record.jobId)) as Job | undefined;
      if (job) {
        const state = await job.getState();
        if (state !== 'failed')
          throw new AppError('CONFLICT', `job ${record.jobId} is ${state}, not failed`);
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        return 'retried' as const;
      }
      await source.add(record.jobName, parsed.payload, jobOptionsFor(parsed.kind, record.jobId));
      return 'added' as const;
    });
    await store.markReplayed(id);
    await redis('remove dlq entry', () => queue(queueNames.dlq).remove(jobIds.deadLetter(id)));
    log.info(
      { deadLetterId: id, jobId: record.jobId, sourceQueue: record.sourceQueue, mode },
      'dead letter replayed',
    );
    return { id, sourceQueue: record.sourceQueue, jobId: record.jobId, mode };
  };

  const acknowledge = async (id: string): Promise<void> => {
    const record = await store.get(id);
    if (!record) throw new AppError('NOT_FOUND', `no dead letter ${id}`);
    if (record.replayedAt === null) await store.markReplayed(id);
    await redis('remove dlq entry', () => queue(queueNames.dlq).remove(jobIds.deadLetter(id)));
  };

  const purge = async (q: { ids?: string[]; olderThan?: Date }): Promise<number> => {
    const dlq = queue(queueNames.dlq);
    await redis('purge dlq entries', async () => {
      for (const id of q.ids ?? []) await dlq.remove(jobIds.deadLetter(id));
      if (q.olderThan) {
        const cutoff = q.olderThan.getTime();
        const old: string[] = [];
        const page = 500;
        for (const state of ['waiting', 'delayed', 'prioritized', 'completed', 'failed'] as const) {
          for (let start = 0; ; start += page) {
            const jobs = await dlq.getJobs([state], start, start + page - 1, true);
            for (const j of jobs) {
              const failedAt = (j.data as { failedAt?: unknown } | null)?.failedAt;
              if (j.id && typeof failedAt === 'string' && Date.parse(failedAt) < cutoff)
                old.push(j.id);
            }
            if (jobs.length < page) break;
          }
        }
        for (const jobId of old) await dlq.remove(jobId);
      }
    });
    const purged = await store.purge(q);
    log.info(
      { purged, ids: q.ids?.length ?? 0, olderThan: q.olderThan?.toISOString() },
      'dead letters purged',
    );
    return purged;
  };

  return {
    list: (q = {}) => store.list(q),
    get: (id) => store.get(id),
    replay,
    acknowledge,
    purge,
    close: () => queues.closeAll(),
  };
}
