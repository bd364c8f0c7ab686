import { parseRetryAfter } from '@agentry/resilience';

export { parseRetryAfter } from '@agentry/resilience';

/** `retry-after-ms` (OpenAI, Azure) wins over `Retry-After`, being more precise. */
export function retryAfterMsOfHeaders(headers: Headers, nowMs: number): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  return parseRetryAfter(headers.get('retry-after'), nowMs);
}
