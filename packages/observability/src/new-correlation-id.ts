import { randomUUID } from 'node:crypto';

/**
 * A fresh correlation id (a random UUID) for a request or intent that arrived without one. It
 * matches the `correlationId` format of the job payloads (`[A-Za-z0-9._:-]{1,128}`).
 */
export function newCorrelationId(): string {
  return randomUUID();
}
