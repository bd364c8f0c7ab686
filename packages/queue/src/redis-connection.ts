import { Redis } from 'ioredis';
import type { QueueLogger } from './queue-logger';

/** `worker`: long-lived, rides out Redis restarts. `producer`: fails fast so an API can answer 503. */
export type RedisRole = 'worker' | 'producer';

export interface RedisConnectionOptions {
  /** How long one connection attempt may take. @default 5000 (worker), 1500 (producer) */
  connectTimeoutMs?: number;
  /** Client name shown by `CLIENT LIST` (BullMQ appends its own suffix on duplicates). */
  name?: string;
  /** Where connection errors go; without it they are dropped (ioredis would print them). */
  log?: QueueLogger;
  /** The password (`AUTH`), resolved from a secret reference; overrides one in the URL. */
  password?: string;
  /**
   * A password that can change (a rotated secret). Its current value is used for every
   * (re)connection, of this client and of every client duplicated from it (BullMQ duplicates
   * for blocking commands); when Redis refuses it, `rejected` is asked for a new one (at most
   * every 5 s) and the refused clients reconnect with it. Wins over `password`.
   */
  auth?: RedisAuth;
}

/** See {@link RedisConnectionOptions.auth}. */
export interface RedisAuth {
  /** The password to present now. */
  current(): string;
  /** Redis refused `current()`: reload it (the secret store's invalidate + get). */
  rejected(): Promise<void>;
}

const refusedAuth = /WRONGPASS|NOAUTH|invalid password|invalid username-password/i;

/** Backoff between reconnect attempts: 100 ms doubling, capped at 5 s. Never gives up. */
export function reconnectDelayMs(times: number): number {
  return Math.min(100 * 2 ** Math.min(times, 10), 5_000);
}

/**
 * An ioredis client with BullMQ's production settings for its role. The caller owns it and must
 * `quit()` it after closing what uses it.
 *
 * - `worker`: `maxRetriesPerRequest: null` (BullMQ refuses anything else for blocking
 *   connections), offline queue on, reconnect forever with capped backoff, so a worker rides out a
 *   Redis restart without help.
 * - `producer`: `enableOfflineQueue: false` and `maxRetriesPerRequest: 1`, a short connect and
 *   command timeout: while Redis is down a command fails at once instead of queueing, so an API
 *   answers 503 instead of hanging. It still reconnects in the background.
 *
 * Never throws; connection failures surface on the commands (and on `log`).
 */
export function createRedisConnection(
  url: string,
  role: RedisRole,
  options: RedisConnectionOptions = {},
): Redis {
  const log = options.log;
  const common = {
    connectionName: options.name,
    ...(options.auth !== undefined
      ? { password: options.auth.current() }
      : options.password === undefined
        ? {}
        : { password: options.password }),
    retryStrategy: reconnectDelayMs,
    // A READONLY reply means we talk to a replica after a failover: reconnect to find the primary.
    reconnectOnError: (err: Error) => err.message.startsWith('READONLY'),
  };
  const client =
    role === 'worker'
      ? new Redis(url, {
          ...common,
          maxRetriesPerRequest: null,
          enableOfflineQueue: true,
          connectTimeout: options.connectTimeoutMs ?? 5_000,
        })
      : new Redis(url, {
          ...common,
          maxRetriesPerRequest: 1,
          enableOfflineQueue: false,
          connectTimeout: options.connectTimeoutMs ?? 1_500,
          commandTimeout: 2_000,
        });
  let lastError = '';
  client.on('error', (err: Error) => {
    // A down Redis emits the same error on every reconnect attempt; log it once per change.
    if (err.message === lastError) return;
    lastError = err.message;
    log?.warn({ err, role }, 'redis connection error');
  });
  client.on('ready', () => {
    if (lastError !== '') log?.info({ role }, 'redis connection ready again');
    lastError = '';
  });
  if (options.auth !== undefined) followPassword(client, options.auth, log);
  return client;
}

/**
 * Keep `client` and every client duplicated from it on `auth`'s current password: a refused AUTH
 * reloads the password (at most every 5 s) and makes the refused clients reconnect with it.
 */
function followPassword(client: Redis, auth: RedisAuth, log: QueueLogger | undefined): void {
  const clients = new Set<Redis>();
  let reloading: Promise<void> | undefined;
  let lastReload = 0;
  const refused = new Set<Redis>();
  const reload = (): void => {
    if (reloading !== undefined || Date.now() - lastReload < 5_000) return;
    lastReload = Date.now();
    reloading = auth
      .rejected()
      .then(() => {
        const password = auth.current();
        for (const c of clients) c.options.password = password;
        for (const c of refused) c.disconnect(true);
        refused.clear();
        log?.info({}, 'redis password reloaded after a refusal');
      })
      .catch((err: unknown) => log?.warn({ err }, 'redis password could not be reloaded'))
      .finally(() => (reloading = undefined));
  };
  const watch = (c: Redis): void => {
    clients.add(c);
    c.on('end', () => clients.delete(c));
    c.on('error', (err: Error) => {
      if (!refusedAuth.test(err.message)) return;
      refused.add(c);
      reload();
    });
    const duplicate = c.duplicate.bind(c);
    c.duplicate = (override) => {
      const copy = duplicate({ ...override, password: auth.current() });
      watch(copy);
      return copy;
    };
  };
  watch(client);
}
