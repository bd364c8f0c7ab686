import { Queue, isNotConnectionError } from 'bullmq';
import type { RedisClient } from './redis-client';
import { noopLogger, type QueueLogger } from './queue-logger';

/** BullMQ `Queue`s on one shared connection, made on first use and closed together. */
export interface QueueCache {
  get(name: string): Queue;
  /** Close every queue made (not the connection). Safe to call twice; never throws. */
  closeAll(): Promise<void>;
}

/**
 * The one place agentry builds a BullMQ `Queue` for producing or reading. `skipWaitingForReady`
 * and `skipVersionCheck`: a queue must not pin a failed first connection (BullMQ would keep the
 * rejected init forever); `checkRedis` verifies the version at start-up instead.
 */
export function createQueueCache(
  connection: RedisClient,
  prefix: string,
  log: QueueLogger = noopLogger,
): QueueCache {
  const queues = new Map<string, Queue>();
  let closing: Promise<void> | undefined;
  return {
    get(name) {
      let q = queues.get(name);
      if (!q) {
        q = new Queue(name, {
          connection,
          prefix,
          skipWaitingForReady: true,
          skipVersionCheck: true,
        });
        q.on('error', (err: Error) => {
          // The shared connection's own errors reach every queue on it; the connection logs them.
          if (isNotConnectionError(err)) log.warn({ err, queue: name }, 'queue error');
          else log.debug({ err, queue: name }, 'queue connection error');
        });
        queues.set(name, q);
      }
      return q;
    },
    closeAll() {
      closing ??= Promise.allSettled([...queues.values()].map((q) => q.close())).then((results) => {
        for (const r of results)
          if (r.status === 'rejected') log.warn({ err: r.reason }, 'queue close failed');
      });
      return closing;
    },
  };
}
