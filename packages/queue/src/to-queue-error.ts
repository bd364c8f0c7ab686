import { AppError, isAppError, toError } from '@agentry/schema';

/**
 * Map a failure talking to Redis into an {@link AppError}: connection-level failures (refused,
 * offline, timed out, closed) become `UNAVAILABLE` (retryable, an API answers 503); AppErrors
 * pass through; anything else is `INTERNAL`.
 */
export function toQueueError(value: unknown, what: string): AppError {
  if (isAppError(value)) return value;
  const error = toError(value);
  const text = `${error.name} ${error.message}`;
  const unavailable =
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|enableOfflineQueue|Stream isn't writeable|Connection is closed|MaxRetriesPerRequest|Command timed out|LOADING|READONLY|CLUSTERDOWN|TRYAGAIN/i.test(
      text,
    );
  return new AppError(unavailable ? 'UNAVAILABLE' : 'INTERNAL', `${what}: ${error.message}`, {
    cause: error,
  });
}
