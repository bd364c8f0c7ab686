import { Redis } from 'ioredis';
import type { QueueLogger } from './queue-logger';

/** `worker`: long-lived, rides out Redis restarts. `producer`: fails fast so an API can answer 503. */
export type RedisRole = 'worker' | 'producer';

export interface RedisConnectionOptions {
  /** How long one connection attempt may take. @default 5000 (worker), 1500 (producer) */
  connectTimeoutMs?: number;
  /** Client name shown by `CLIENT LIST` (BullMQ appends its own suffix on duplicates). */
  name?: string;
  /** Where connection errors go; without it they are dropped (ioredis would print them). */
  log?: QueueLogger;
  /** The password (`AUTH`), resolved from a secret reference; overrides one in the URL. */
  password?: string;
}

/** Backoff between reconnect attempts: 100 ms doubling, capped at 5 s. Never gives up. */
export function reconnectDelayMs(times: number): number {
  return Math.min(100 * 2 ** Math.min(times, 10), 5_000);
}

/**
 * An ioredis client with BullMQ's production settings for its role. The caller owns it and must
 * `quit()` it after closing what uses it.
 *
 * - `worker`: `maxRetriesPerRequest: null` (BullMQ refuses anything else for blocking
 *   connections), offline queue on, reconnect forever with capped backoff, so a worker rides out a
 *   Redis restart without help.
 * - `producer`: `enableOfflineQueue: false` and `maxRetriesPerRequest: 1`, a short connect and
 *   command timeout: while Redis is down a command fails at once instead of queueing, so an API
 *   answers 503 instead of hanging. It still reconnects in the background.
 *
 * Never throws; connection failures surface on the commands (and on `log`).
 */
export function createRedisConnection(
  url: string,
  role: RedisRole,
  options: RedisConnectionOptions = {},
): Redis {
  const log = options.log;
  const common = {
    connectionName: options.name,
    ...(options.password === undefined ? {} : { password: options.password }),
    retryStrategy: reconnectDelayMs,
    // A READONLY reply means we talk to a replica after a failover: reconnect to find the primary.
    reconnectOnError: (err: Error) => err.message.startsWith('READONLY'),
  };
  const client =
    role === 'worker'
      ? new Redis(url, {
          ...common,
          maxRetriesPerRequest: null,
          enableOfflineQueue: true,
          connectTimeout: options.connectTimeoutMs ?? 5_000,
        })
      : new Redis(url, {
          ...common,
          maxRetriesPerRequest: 1,
          enableOfflineQueue: false,
          connectTimeout: options.connectTimeoutMs ?? 1_500,
          commandTimeout: 2_000,
        });
  let lastError = '';
  client.on('error', (err: Error) => {
    // A down Redis emits the same error on every reconnect attempt; log it once per change.
    if (err.message === lastError) return;
    lastError = err.message;
    log?.warn({ err, role }, 'redis connection error');
  });
  client.on('ready', () => {
    if (lastError !== '') log?.info({ role }, 'redis connection ready again');
    lastError = '';
  });
  return client;
}
