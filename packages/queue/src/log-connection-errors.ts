import type { QueueLogger } from './queue-logger';
import type { RedisClient } from './redis-client';

/**
 * Listen for `client`'s errors and log each distinct one once (warn) until it is ready again.
 * Every ioredis client needs an `error` listener: without one, ioredis prints each failed
 * reconnect attempt to stderr ("Unhandled error event"). Clients made by `duplicate()` do not
 * inherit the listeners of the client they copy.
 */
export function logConnectionErrors(
  client: RedisClient,
  log: QueueLogger,
  fields: Record<string, unknown>,
): void {
  let lastError = '';
  client.on('error', (err: Error) => {
    if (err.message === lastError) return;
    lastError = err.message;
    log.warn({ err, ...fields }, 'redis connection error');
  });
  client.on('ready', () => {
    if (lastError !== '') log.info(fields, 'redis connection ready again');
    lastError = '';
  });
}
