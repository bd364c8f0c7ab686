const deltaSeconds = /^\d+(\.\d+)?$/;

/**
 * Milliseconds to wait from a `Retry-After` value: delta-seconds (`"3"`, and `"1.5"` as some
 * servers send) or an HTTP date, counted from `nowMs`. Never negative (a date in the past is 0);
 * `undefined` when absent or unreadable. Never throws.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
): number | undefined {
  const trimmed = value?.trim() ?? '';
  if (trimmed === '') return undefined;
  if (deltaSeconds.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // An HTTP date names its day and month; this keeps `Date.parse` from reading "-5" as a year.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
