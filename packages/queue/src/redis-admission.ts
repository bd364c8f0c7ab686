import { AppError } from '@agentry/schema';
import type { Producer } from './producer';
import { noopLogger, type QueueLogger } from './queue-logger';
import { serverOf, type RedisClient } from './redis-client';
import { isRedisOutOfMemory } from './to-queue-error';

/** Why new work is refused: Redis is not connected, or its memory is (nearly) full. */
export type AdmissionRefusal = 'redis_unreachable' | 'redis_memory_full';

export interface RedisAdmissionOptions {
  /** A `producer` connection (fail-fast); read, never closed. */
  connection: RedisClient;
  /** The fleet's key prefix: on a Redis Cluster, the memory read is that of its queues' node. */
  prefix: string;
  /**
   * New work is refused while Redis's `used_memory` is at or above this fraction of its
   * `maxmemory`, so that the rest stays for work already accepted (its steps, results, retries).
   * 1 refuses only once Redis itself refuses writes. No limit (`maxmemory 0`) or an unreadable
   * `INFO memory` never refuses.
   */
  maxMemoryRatio: number;
  /** How often `INFO memory` is read. @default 1000 */
  refreshMs?: number;
  /** The wait a refusal asks for (`details.retryAfterMs`, the HTTP Retry-After). @default 1000 */
  retryAfterMs?: number;
  log?: QueueLogger;
}

export interface RedisAdmission {
  /**
   * Throw `AppError('UNAVAILABLE')` — `details: { reason, retryAfterMs }` — when Redis cannot
   * take new work now: not connected, or its memory above the ratio (or a write just refused for
   * memory). Decided from what is known already: never waits on Redis.
   * @param what the work refused, for the message (e.g. "the intent").
   */
  check(what: string): void;
  /**
   * Tell admission about a failed write to Redis: a refusal for memory (`OOM`) closes admission
   * until a reading shows room again. Anything else is ignored. Never throws.
   */
  observe(error: unknown): void;
  /** The producer with its failed enqueues {@link observe}d; otherwise the same producer. */
  watch<P extends Pick<Producer, 'enqueue'>>(producer: P): P;
  /** Read memory now and every `refreshMs` (timer unref'd). Idempotent. */
  start(): void;
  /** Stop reading. Safe to call twice. */
  close(): void;
}

/** `used_memory` and `maxmemory` of an `INFO memory` answer (NaN when missing). */
export function parseRedisMemory(info: string): { usedBytes: number; maxBytes: number } {
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1]);
  return { usedBytes: field('used_memory'), maxBytes: field('maxmemory') };
}

/**
 * Admission control for new work on Redis, as a producer-facing gate (the API's `POST /v1/runs`):
 * refuse fast and clearly, before anything is saved, while Redis is down or nearly full, instead
 * of accepting work that cannot be queued or that would crowd out work already accepted.
 */
export function createRedisAdmission(options: RedisAdmissionOptions): RedisAdmission {
  const { connection, maxMemoryRatio, prefix } = options;
  const log = options.log ?? noopLogger;
  const refreshMs = options.refreshMs ?? 1_000;
  const retryAfterMs = options.retryAfterMs ?? 1_000;
  /** Last reading; `full` is also set by an observed OOM until the next reading. */
  let memory: { usedBytes: number; maxBytes: number; full: boolean } | undefined;
  /** Bumped by each observed OOM: a reading started before it must not clear it. */
  let generation = 0;
  let reading: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let lastRefusal: AdmissionRefusal | undefined;

  const read = (): void => {
    if (reading || closed || connection.status !== 'ready') return;
    const started = generation;
    reading = serverOf(connection, `${prefix}:admission`)
      .then((server) => server.info('memory'))
      .then(
        (info) => {
          if (started !== generation) return;
          const { usedBytes, maxBytes } = parseRedisMemory(info);
          const known = Number.isFinite(usedBytes) && Number.isFinite(maxBytes) && maxBytes > 0;
          memory = known
            ? { usedBytes, maxBytes, full: usedBytes >= maxBytes * maxMemoryRatio }
            : undefined;
        },
        () => {
          // Unreadable (a restricted INFO, a timeout): admit on the connection state alone.
          if (started === generation) memory = undefined;
        },
      )
      .finally(() => (reading = undefined));
  };
  // After a reconnect the last reading may be of another life of Redis: read again at once.
  const onReady = () => {
    memory = undefined;
    read();
  };

  const refuse = (reason: AdmissionRefusal, what: string, why: string): never => {
    if (lastRefusal !== reason) log.warn({ reason, why }, `refusing new work: ${why}`);
    lastRefusal = reason;
    throw new AppError(
      'UNAVAILABLE',
      `${what} was not accepted: ${why}; retry with the same idempotency key`,
      { details: { reason, retryAfterMs } },
    );
  };

  const observe = (error: unknown): void => {
    if (!isRedisOutOfMemory(error)) return;
    generation += 1;
    memory = { usedBytes: memory?.maxBytes ?? 0, maxBytes: memory?.maxBytes ?? 0, full: true };
    read();
  };

  return {
    check(what) {
      if (connection.status !== 'ready') {
        refuse('redis_unreachable', what, `the job queue (Redis) is unreachable`);
      }
      if (memory?.full) {
        const used =
          memory.maxBytes > 0 ? Math.round((memory.usedBytes / memory.maxBytes) * 100) : 100;
        refuse(
          'redis_memory_full',
          what,
          used >= 100
            ? 'the job queue (Redis) is out of memory: it refuses writes'
            : `the job queue (Redis) is nearly out of memory (${used}% of maxmemory used; ` +
                `new work is refused from ${Math.round(maxMemoryRatio * 100)}%)`,
        );
      }
      if (lastRefusal !== undefined) log.info({ was: lastRefusal }, 'accepting new work again');
      lastRefusal = undefined;
    },
    observe,
    watch(producer) {
      const enqueue: Producer['enqueue'] = async (kind, payload, o) => {
        try {
          return await producer.enqueue(kind, payload, o);
        } catch (error) {
          observe(error);
          throw error;
        }
      };
      return { ...producer, enqueue };
    },
    start() {
      if (timer || closed) return;
      connection.on('ready', onReady);
      read();
      timer = setInterval(read, refreshMs);
      timer.unref();
    },
    close() {
      closed = true;
      clearInterval(timer);
      connection.off('ready', onReady);
    },
  };
}
