import { parseRetryAfter } from '@agentry/resilience';
import { AppError } from '@agentry/schema';

/**
 * The AppError for an HTTP error status, or `undefined` below 400. 429 → `RATE_LIMITED`,
 * 502/503/504 → `UNAVAILABLE`, other 5xx and 408 → `TRANSIENT` (all retryable, with the
 * `Retry-After` kept in details as `retryAfter` and `retryAfterMs`); any other 4xx →
 * `TOOL_FAILED` that is not retried (the same request would fail the same way). Never throws.
 */
export function httpStatusError(
  status: number,
  headers: Readonly<Record<string, string>>,
  url: string,
  now: () => number = Date.now,
): AppError | undefined {
  if (status < 400) return undefined;
  const details: Record<string, unknown> = { status, url };
  const retryAfter = headers['retry-after'];
  if (retryAfter !== undefined) {
    details.retryAfter = retryAfter;
    const ms = parseRetryAfter(retryAfter, now());
    if (ms !== undefined) details.retryAfterMs = ms;
  }
  const message = `${url} answered ${status}`;
  if (status === 429) return new AppError('RATE_LIMITED', message, { details });
  if (status === 502 || status === 503 || status === 504) {
    return new AppError('UNAVAILABLE', message, { details });
  }
  if (status >= 500 || status === 408) return new AppError('TRANSIENT', message, { details });
  return new AppError('TOOL_FAILED', message, { details, retryable: false });
}
