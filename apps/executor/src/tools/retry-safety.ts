import type { AppError } from '@agentry/schema';
import { amendAppError } from '@agentry/schema';

/** Methods whose repetition has the effect of one request (RFC 9110 §9.2.2). */
const idempotentMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

/**
 * True when a failed request certainly was not processed, so sending it again is safe whatever
 * its method: nothing was sent (`details.requestSent === false`: DNS failed, the connection was
 * refused or could not be made in time), the server refused it with 429, or an open circuit
 * refused it before any connection.
 */
export function certainlyNotProcessed(error: AppError): boolean {
  return (
    error.details?.['requestSent'] === false ||
    error.code === 'RATE_LIMITED' ||
    error.details?.['circuit'] === 'open'
  );
}

/**
 * The error a tool reports for a failed request, so that the step's retry only repeats requests
 * that are safe to repeat. GET, HEAD, PUT and DELETE, and any method when `idempotent` (the remote
 * honours `Idempotency-Key`), keep `error` as it is. A retryable failure of another method (POST,
 * PATCH) stays retryable only when {@link certainlyNotProcessed}; otherwise it becomes
 * `retryable: false` with `details.retrySafe: false`, its code kept. Never throws.
 */
export function withRetrySafety(error: AppError, method: string, idempotent: boolean): AppError {
  if (!error.retryable || idempotent || idempotentMethods.has(method)) return error;
  if (certainlyNotProcessed(error)) return error;
  return amendAppError(error, {
    message: `${error.message}; not retried: the ${method} may have been processed`,
    retryable: false,
    details: { retrySafe: false },
  });
}
