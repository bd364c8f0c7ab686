import { AppError, isAppError, toError } from './errors';

/** How long a caller is told to wait before trying again (an API's `Retry-After`). */
export const databaseRetryAfterMs = 2_000;

/**
 * The fleet's own database cannot be reached (refused, dropped, shutting down, starting up): an
 * `UNAVAILABLE` AppError marked `details.dependency: 'database'` with a `retryAfterMs` hint. Not a
 * fault of the work being done: the API answers 503 with `Retry-After`, and a worker puts the job
 * back for later without using one of its attempts (see the queue's job runner).
 */
export function databaseUnavailable(cause: unknown): AppError {
  const error = toError(cause);
  return new AppError('UNAVAILABLE', `database unavailable: ${error.message}`, {
    cause: error,
    details: { dependency: 'database', retryAfterMs: databaseRetryAfterMs },
  });
}

/** True for an error of {@link databaseUnavailable} (also from another copy of this package). */
export function isDatabaseUnavailable(error: unknown): boolean {
  return (
    isAppError(error) && error.code === 'UNAVAILABLE' && error.details?.dependency === 'database'
  );
}
