import { Cluster, Redis, type ClusterOptions } from 'ioredis';
import { isCluster, type RedisClient } from './redis-client';
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

/** A Redis Cluster to connect to: seed nodes, and whether every node speaks TLS. */
export interface RedisClusterEndpoint {
  nodes: ReadonlyArray<{ host: string; port: number }>;
  /** TLS to every node (`rediss://` for a single server). @default false */
  tls?: boolean;
}

/** Where the queues live: a Redis URL (`redis://`, `rediss://`), or a Redis Cluster. */
export type RedisEndpoint = string | RedisClusterEndpoint;

/**
 * The endpoint of a configuration: its Redis Cluster when `AGENTRY_REDIS_CLUSTER_NODES` is set,
 * else `AGENTRY_REDIS_URL`.
 */
export function redisEndpoint(config: {
  redisUrl: string;
  redisCluster?: { nodes: ReadonlyArray<{ host: string; port: number }>; tls: boolean } | undefined;
}): RedisEndpoint {
  return config.redisCluster ?? config.redisUrl;
}

/**
 * An ioredis client with BullMQ's production settings for its role: a `Redis` for a URL, a
 * `Cluster` for a {@link RedisClusterEndpoint}. The caller owns it and must `quit()` it after
 * closing what uses it.
 *
 * - `worker`: `maxRetriesPerRequest: null` (BullMQ refuses anything else for blocking
 *   connections), offline queue on, reconnect forever with capped backoff, so a worker rides out a
 *   Redis restart without help. On a Cluster, a command that meets a failover (connection
 *   closed, `CLUSTERDOWN`, `TRYAGAIN`) is retried every 200 ms for up to 10 s while the client
 *   refreshes its slot table; `MOVED` and `ASK` are followed at once.
 * - `producer`: `enableOfflineQueue: false` and `maxRetriesPerRequest: 1`, a short connect and
 *   command timeout: while Redis is down a command fails at once instead of queueing, so an API
 *   answers 503 instead of hanging. It still reconnects in the background. On a Cluster, redirects
 *   are followed as for a worker but a failover is waited for only ~1.6 s (ioredis's defaults).
 *
 * Never throws; connection failures surface on the commands (and on `log`).
 */
export function createRedisConnection(
  endpoint: string,
  role: RedisRole,
  options?: RedisConnectionOptions,
): Redis;
export function createRedisConnection(
  endpoint: RedisClusterEndpoint,
  role: RedisRole,
  options?: RedisConnectionOptions,
): Cluster;
export function createRedisConnection(
  endpoint: RedisEndpoint,
  role: RedisRole,
  options?: RedisConnectionOptions,
): RedisClient;
export function createRedisConnection(
  endpoint: RedisEndpoint,
  role: RedisRole,
  options: RedisConnectionOptions = {},
): RedisClient {
  const log = options.log;
  const password =
    options.auth !== undefined
      ? { password: options.auth.current() }
      : options.password === undefined
        ? {}
        : { password: options.password };
  const perRole =
    role === 'worker'
      ? {
          maxRetriesPerRequest: null,
          connectTimeout: options.connectTimeoutMs ?? 5_000,
        }
      : {
          maxRetriesPerRequest: 1,
          connectTimeout: options.connectTimeoutMs ?? 1_500,
          commandTimeout: 2_000,
        };
  const client: RedisClient =
    typeof endpoint === 'string'
      ? new Redis(endpoint, {
          connectionName: options.name,
          ...password,
          ...perRole,
          enableOfflineQueue: role === 'worker',
          retryStrategy: reconnectDelayMs,
          // A READONLY reply means we talk to a replica after a failover: reconnect to find the primary.
          reconnectOnError: (err: Error) => err.message.startsWith('READONLY'),
        })
      : new Cluster(
          endpoint.nodes.map((n) => ({ host: n.host, port: n.port })),
          {
            redisOptions: {
              connectionName: options.name,
              ...password,
              ...perRole,
              ...(endpoint.tls ? { tls: {} } : {}),
            },
            enableOfflineQueue: role === 'worker',
            clusterRetryStrategy: reconnectDelayMs,
            slotsRefreshTimeout: 2_000,
            ...(role === 'worker'
              ? {
                  retryDelayOnFailover: 200,
                  retryDelayOnClusterDown: 200,
                  retryDelayOnTryAgain: 200,
                  maxRedirections: 50,
                }
              : {}),
            // Behind TLS, connect to the names the nodes announce so certificates match them.
            ...(endpoint.tls
              ? {
                  dnsLookup: (address: string, done: (e: null, address: string) => void) =>
                    done(null, address),
                }
              : {}),
          },
        );
  let lastError = '';
  const onError = (err: Error, node?: string): void => {
    // A down Redis emits the same error on every reconnect attempt; log it once per change.
    if (err.message === lastError) return;
    lastError = err.message;
    log?.warn({ err, role, ...(node === undefined ? {} : { node }) }, 'redis connection error');
  };
  client.on('error', (err: Error) => onError(err));
  // A Cluster reports the errors of its node connections apart.
  if (isCluster(client)) client.on('node error', (err: Error, node: string) => onError(err, node));
  client.on('ready', () => {
    if (lastError !== '') log?.info({ role }, 'redis connection ready again');
    lastError = '';
  });
  if (options.auth !== undefined) followPassword(client, options.auth, log);
  return client;
}

/**
 * Keep `client` and every client duplicated from it on `auth`'s current password: a refused AUTH
 * reloads the password (at most every 5 s) and makes the refused clients reconnect with it. On a
 * Cluster the password is that of every node connection, present and future.
 */
function followPassword(client: RedisClient, auth: RedisAuth, log: QueueLogger | undefined): void {
  const clients = new Set<RedisClient>();
  let reloading: Promise<void> | undefined;
  let lastReload = 0;
  const refused = new Set<RedisClient>();
  const setPassword = (c: RedisClient, password: string): void => {
    if (!isCluster(c)) {
      c.options.password = password;
      return;
    }
    // The node connections are made from `redisOptions` (the same object), so future nodes
    // follow; the present ones are told one by one.
    c.options.redisOptions = Object.assign(c.options.redisOptions ?? {}, { password });
    for (const node of c.nodes('all')) node.options.password = password;
  };
  const reload = (): void => {
    if (reloading !== undefined || Date.now() - lastReload < 5_000) return;
    lastReload = Date.now();
    reloading = auth
      .rejected()
      .then(() => {
        const password = auth.current();
        for (const c of clients) setPassword(c, password);
        for (const c of refused) c.disconnect(true);
        refused.clear();
        log?.info({}, 'redis password reloaded after a refusal');
      })
      .catch((err: unknown) => log?.warn({ err }, 'redis password could not be reloaded'))
      .finally(() => (reloading = undefined));
  };
  const onError = (c: RedisClient) => (err: Error) => {
    if (!refusedAuth.test(err.message)) return;
    refused.add(c);
    reload();
  };
  const watch = (c: RedisClient): void => {
    clients.add(c);
    c.on('end', () => clients.delete(c));
    c.on('error', onError(c));
    if (isCluster(c)) {
      c.on('node error', onError(c));
      const duplicate = c.duplicate.bind(c);
      c.duplicate = (nodes, override: ClusterOptions = {}) => {
        const redisOptions = { ...(override.redisOptions ?? c.options.redisOptions) };
        const copy = duplicate(nodes, {
          ...override,
          redisOptions: { ...redisOptions, password: auth.current() },
        });
        watch(copy);
        return copy;
      };
    } else {
      const duplicate = c.duplicate.bind(c);
      c.duplicate = (override) => {
        const copy = duplicate({ ...override, password: auth.current() });
        watch(copy);
        return copy;
      };
    }
  };
  watch(client);
}
