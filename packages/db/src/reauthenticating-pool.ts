import type { PostgresPool } from 'kysely';

/** Postgres' "password authentication failed" (SQLSTATE 28P01). */
const invalidPassword = '28P01';

/**
 * `pool` for Kysely, where a connection refused for its password is tried once more after
 * `onAuthFailure` (the secret store dropping the cached password): a rotated password is picked
 * up by the next connection instead of after the cache's TTL. Any other error, and a second
 * refusal, is the caller's.
 */
export function reauthenticatingPool(pool: PostgresPool, onAuthFailure: () => void): PostgresPool {
  return {
    async connect() {
      try {
        return await pool.connect();
      } catch (error) {
        if ((error as { code?: unknown } | null)?.code !== invalidPassword) throw error;
        onAuthFailure();
        return pool.connect();
      }
    },
    end: () => pool.end(),
  };
}
