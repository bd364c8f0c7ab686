import { queueDepthStates } from '@agentry/schema';
import type { JobType, Queue } from 'bullmq';
import type { RedisClient } from './redis-client';
import { createQueueCache } from './queue-cache';
import { noopLogger, type QueueLogger } from './queue-logger';

export type DepthSink = (
  queue: string,
  counts: Record<string, number>,
  oldestWaitingAgeSeconds: number,
) => void;

export interface QueueDepthCollectorOptions {
  /** Any connection (a `producer` one is fine: a failed round is logged and skipped). */
  connection: RedisClient;
  prefix: string;
  queues: string[];
  /** @default 5000 */
  intervalMs?: number;
  sink: DepthSink;
  log?: QueueLogger;
  clock?: () => number;
}

export interface QueueDepthCollector {
  /** Collect now and then every `intervalMs` (timer unref'd). Idempotent. */
  start(): void;
  /** One round over all queues; a failing queue is logged and skipped, never throws. */
  collectOnce(): Promise<void>;
  /** Stop the timer and close the queues. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Polls job counts (for KEDA / Prometheus) and the age of the oldest job in `wait` (0 when
 * empty; prioritized jobs are not considered). Needs no Worker.
 */
export function createQueueDepthCollector(
  options: QueueDepthCollectorOptions,
): QueueDepthCollector {
  const { connection, prefix, sink } = options;
  const log = options.log ?? noopLogger;
  const clock = options.clock ?? Date.now;
  const intervalMs = options.intervalMs ?? 5_000;
  const cache = createQueueCache(connection, prefix, log);
  const queues = options.queues.map((name) => cache.get(name));
  let timer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;
  let round: Promise<void> | undefined;

  const collectQueue = async (q: Queue): Promise<void> => {
    // `paused` is not a JobType in bullmq 6's typings but its getCounts script still counts the list.
    const counts = await q.getJobCounts(...(queueDepthStates as readonly string[] as JobType[]));
    // wait is a list: new jobs are pushed on the left, workers take from the right (the oldest).
    const oldestId = await connection.lindex(q.keys.wait ?? q.toKey('wait'), -1);
    const ts = oldestId === null ? null : await connection.hget(q.toKey(oldestId), 'timestamp');
    const age = ts === null ? 0 : Math.max(0, (clock() - Number(ts)) / 1_000);
    sink(q.name, counts, age);
  };

  // While Redis is down every round fails the same way: one warning per queue and error.
  const lastFailure = new Map<string, string>();
  const collectOnce = async (): Promise<void> => {
    await Promise.all(
      queues.map((q) =>
        collectQueue(q).then(
          () => lastFailure.delete(q.name),
          (err: unknown) => {
            const message = err instanceof Error ? err.message : String(err);
            const repeated = lastFailure.get(q.name) === message;
            lastFailure.set(q.name, message);
            log[repeated ? 'debug' : 'warn'](
              { err, queue: q.name },
              'queue depth collection failed',
            );
          },
        ),
      ),
    );
  };

  const tick = (): void => {
    if (round || closing) return; // never overlap rounds against a slow Redis
    round = collectOnce().finally(() => {
      round = undefined;
    });
  };

  return {
    start() {
      if (timer || closing) return;
      tick();
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    collectOnce,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        await round;
        await cache.closeAll();
      })();
      return closing;
    },
  };
}
