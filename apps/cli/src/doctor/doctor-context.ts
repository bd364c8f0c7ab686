import type { Database } from '@agentry/db';
import { openConfiguredDatabase } from '@agentry/engine';
import { redactUrl } from '@agentry/observability';
import { createRedisConnection, redisEndpoint, redisKeyPrefix } from '@agentry/queue';
import { toAppError, type CommonConfig } from '@agentry/schema';
import type { SecretStore } from '@agentry/secrets';
import { openCliSecretStore } from '../cli-secrets';

export type RedisClient = ReturnType<typeof createRedisConnection>;

/** A shared dependency, opened on first use: the value, or why it could not be opened. */
export type Opened<T> = { ok: true; value: T } | { ok: false; error: string };

/** What the checks share. Connections are opened lazily, once, and closed by `close()`. */
export interface DoctorContext {
  env: Record<string, string | undefined>;
  config: CommonConfig;
  secrets: SecretStore;
  /** The Redis key prefix, e.g. `{agentry}`. */
  prefix: string;
  /**
   * The Redis of AGENTRY_REDIS_URL (or the Redis Cluster of AGENTRY_REDIS_CLUSTER_NODES) once it
   * answers, or why it does not. A check of one server's settings may be given one Cluster node
   * here instead (see `acrossServers`).
   */
  redis(): Promise<Opened<RedisClient>>;
  /** Where `redis()` connects, for findings: the URL without its password, or the node(s). */
  redisWhere: string;
  /**
   * The database of DATABASE_URL, or why it cannot be opened; `undefined` when DATABASE_URL is
   * unset (the embedded database is not opened: it takes one process at a time, and a running
   * `agentry dev` holds it).
   */
  database(): Promise<Opened<Database> | undefined>;
  /** The local clock, ms since the epoch. */
  now(): number;
  /** Close what was opened. Safe to call twice; never throws. */
  close(): Promise<void>;
}

/**
 * The context for one `agentry doctor`, from the same variables the fleet reads. Throws only when
 * the configuration itself is invalid (a `VALIDATION` error listing the variables).
 */
export async function openDoctorContext(
  env: Record<string, string | undefined>,
  options: { connectTimeoutMs: number; now?: () => number },
): Promise<DoctorContext> {
  const secrets = await openCliSecretStore(env);
  const { config } = secrets;
  const clients: RedisClient[] = [];
  let redis: Promise<Opened<RedisClient>> | undefined;
  let database: Promise<Opened<Database> | undefined> | undefined;

  const connectRedis = async (): Promise<Opened<RedisClient>> => {
    let password: string | undefined;
    if (config.redisPasswordRef !== undefined) {
      try {
        password = await secrets.store.get(config.redisPasswordRef);
      } catch (e) {
        const error = toAppError(e);
        return {
          ok: false,
          error: `AGENTRY_REDIS_PASSWORD_REF did not resolve: ${error.code}: ${error.message}`,
        };
      }
    }
    const client = createRedisConnection(redisEndpoint(config), 'producer', {
      name: 'agentry-doctor',
      connectTimeoutMs: options.connectTimeoutMs,
      ...(password === undefined ? {} : { password }),
    });
    clients.push(client);
    const error = await firstAnswer(client, options.connectTimeoutMs);
    return error === undefined ? { ok: true, value: client } : { ok: false, error };
  };

  const openDatabase = async (): Promise<Opened<Database> | undefined> => {
    if (config.databaseUrl === undefined) return undefined;
    try {
      return { ok: true, value: await openConfiguredDatabase(config, secrets.store) };
    } catch (e) {
      return { ok: false, error: toAppError(e).message };
    }
  };

  let closing: Promise<void> | undefined;
  return {
    env,
    config,
    secrets: secrets.store,
    prefix: redisKeyPrefix(config.queuePrefix),
    redis: () => (redis ??= connectRedis()),
    redisWhere:
      config.redisCluster === undefined
        ? redactUrl(config.redisUrl)
        : `cluster ${config.redisCluster.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`,
    database: () => (database ??= openDatabase()),
    now: options.now ?? Date.now,
    close: () =>
      (closing ??= (async () => {
        // Read-only work: nothing to flush, so no QUIT round trip to wait for.
        for (const client of clients) client.disconnect();
        const opened = await database;
        if (opened?.ok) await opened.value.close().catch(() => undefined);
        await secrets.close().catch(() => undefined);
      })()),
  };
}

/**
 * Wait for the client's first answer: `undefined` once it is ready, else the first connection
 * error (a producer connection would only repeat it) or a timeout.
 */
function firstAnswer(client: RedisClient, timeoutMs: number): Promise<string | undefined> {
  if (client.status === 'ready') return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const done = (error?: string) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      resolve(error);
    };
    const onReady = () => done();
    const onError = (err: Error) => done(errorText(err));
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
    client.once('ready', onReady);
    client.once('error', onError);
  });
}

/** An error's message; Node's happy-eyeballs connect fails with an AggregateError without one. */
function errorText(err: Error): string {
  if (err.message) return err.message;
  const first = (err as { errors?: unknown[] }).errors?.[0];
  return first instanceof Error && first.message ? first.message : err.name;
}
