/** The one key of the stand-in data of a job whose hash did not hold JSON. */
export const unreadableKey = 'agentry.unreadableJobData';

/** Enough of the raw text to recognise the producer's mistake; the rest is not kept. */
const maxRawChars = 16_384;

export interface Unreadable {
  /** The job hash's `data` field as it was (cut at 16 KiB). */
  raw: string;
  truncated: boolean;
  /** Why it could not be read, e.g. `Unexpected token 'o', "not json{" is not valid JSON`. */
  error: string;
}

/** The stand-in for a job's data (or options) that are not JSON: its raw text and the reason. */
export function unreadableJobData(
  raw: string | undefined,
  error: unknown,
): { [unreadableKey]: Unreadable } {
  const text = raw ?? '';
  const message = error instanceof Error ? error.message : String(error);
  return {
    [unreadableKey]: {
      raw: text.slice(0, maxRawChars),
      truncated: text.length > maxRawChars,
      error: message.slice(0, 500),
    },
  };
}

/** The {@link Unreadable} a job's data stands in for, if it is such a stand-in. */
export function unreadableOf(data: unknown): Unreadable | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const value = (data as Record<string, unknown>)[unreadableKey];
  if (typeof value !== 'object' || value === null) return undefined;
  const { error } = value as { error?: unknown };
  return typeof error === 'string' ? (value as Unreadable) : undefined;
}
