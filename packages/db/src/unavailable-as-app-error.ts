import type { EventEmitter } from 'node:events';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import { databaseUnavailable } from '@agentry/schema';

/** Socket errors of a server that is down, unreachable or went away. */
const socketCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that cannot serve now: connection exceptions (class 08), shutting down
 * (57P01 admin, 57P02 crash), starting up or in recovery (57P03), out of connections (53300).
 */
const unavailableStates = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;

/** What node-postgres says when the connection is gone or never came (it sets no code). */
const pgMessages =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed)/;

/**
 * True when `error` says the database cannot be reached now — not that the query was wrong. An
 * AggregateError (several addresses tried) counts when any of its errors does.
 */
export function isConnectionFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, errors } = error as {
    code?: unknown;
    message?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string' && (socketCodes.has(code) || unavailableStates.test(code)))
    return true;
  if (typeof message === 'string' && pgMessages.test(message)) return true;
  return Array.isArray(errors) && errors.some(isConnectionFailure);
}

/**
 * `pool` for Kysely, where a connection that cannot be made or is lost mid-query rejects with
 * `databaseUnavailable` (`UNAVAILABLE`, `details.dependency: 'database'`) instead of the driver's
 * raw error: the API answers 503 rather than 500, and a worker waits for the database instead of
 * spending the job's attempts. Every other error (constraint, syntax, timeout) is passed on as
 * it is. A checked-out connection whose server goes away no longer crashes the process.
 */
export function unavailableAsAppError(pool: PostgresPool): PostgresPool {
  const translate = (error: unknown): unknown =>
    isConnectionFailure(error) ? databaseUnavailable(error) : error;
  return {
    async connect() {
      let client: PostgresPoolClient & Partial<Pick<EventEmitter, 'on' | 'off'>>;
      try {
        client = await pool.connect();
      } catch (error) {
        throw translate(error);
      }
      // Hazard: pg-pool listens for a client's errors only while it is idle. A checked-out
      // client between two statements (in a transaction) that loses its server — a shutdown's
      // FATAL, a dropped socket — emits 'error' with nobody listening, which crashes the
      // process. Listen while it is out; its next query then fails, and the pool drops it.
      const lost = (): void => undefined;
      client.on?.('error', lost);
      return {
        query: ((...args: Parameters<PostgresPoolClient['query']>) => {
          const result = (client.query as (...a: unknown[]) => unknown).apply(client, args);
          // A cursor (streaming) is returned as it is; a query's promise is translated.
          return result instanceof Promise
            ? result.catch((error: unknown) => Promise.reject(translate(error)))
            : result;
        }) as PostgresPoolClient['query'],
        release: () => {
          client.off?.('error', lost);
          client.release();
        },
      };
    },
    end: () => pool.end(),
  };
}
