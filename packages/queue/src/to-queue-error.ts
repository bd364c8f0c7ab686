import { AppError, isAppError, toError } from '@agentry/schema';

/**
 * Map a failure talking to Redis into an {@link AppError}: connection-level failures (refused,
 * offline, timed out, closed) and a write refused because Redis's memory is full (`OOM`, under
 * `noeviction`) become `UNAVAILABLE` (retryable, an API answers 503); AppErrors pass through;
 * anything else is `INTERNAL`.
 */
export function toQueueError(value: unknown, what: string): AppError {
  if (isAppError(value)) return value;
  const error = toError(value);
  const text = `${error.name} ${error.message}`;
  const unavailable =
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|enableOfflineQueue|Stream isn't writeable|Connection is closed|MaxRetriesPerRequest|Command timed out|LOADING|READONLY|CLUSTERDOWN|TRYAGAIN|Too many Cluster redirections|Failed to refresh slots cache/i.test(
      text,
    );
  if (isRedisOutOfMemory(error)) {
    return new AppError('UNAVAILABLE', `${what}: Redis refused the write, its memory is full`, {
      cause: error,
    });
  }
  return new AppError(unavailable ? 'UNAVAILABLE' : 'INTERNAL', `${what}: ${error.message}`, {
    cause: error,
  });
}

/**
 * True for Redis's refusal of a write above `maxmemory` (under `noeviction`): its `OOM` reply,
 * or an error caused by one (e.g. from {@link toQueueError}).
 */
export function isRedisOutOfMemory(error: unknown): boolean {
  const e = toError(error);
  const cause = e.cause === undefined ? '' : toError(e.cause).message;
  return /^OOM |\bOOM command not allowed\b/.test(e.message) || /^OOM /.test(cause);
}
