import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import { createRepositories, type Database, type Repositories } from '@agentry/db';
import {
  createLogger,
  createRegistry,
  redactUrl,
  type Logger,
  type Tracing,
} from '@agentry/observability';
import {
  announceCancel,
  createProducer,
  listenForLogLevels,
  createRedisConnection,
  duplicateConnection,
  redisEndpoint,
  redisKeyPrefix,
  type Producer,
  type RedisAuth,
  type RedisClient,
  type RedisEndpoint,
} from '@agentry/queue';
import type { CommonConfig } from '@agentry/schema';
import type { ReadinessCheck } from '@agentry/observability';
import { createScrubber, openSecretStore, type Scrubber, type SecretStore } from '@agentry/secrets';
import type { EngineDeps } from './engine-deps';
import { fleetReadiness } from './fleet-readiness';
import { openConfiguredDatabase } from './open-configured-database';
import { openFleetTracing } from './open-fleet-tracing';
import { ResourceStack } from './resource-stack';
import { secretAuditSink } from './secret-audit';

/**
 * What every fleet process shares: logger, metrics registry, the database and its repositories,
 * and a fail-fast producer. `agentry dev` opens one set and hands it to planner, executor and
 * API in one process; a standalone worker opens its own.
 */
export interface FleetServices {
  config: CommonConfig;
  log: Logger;
  registry: Registry;
  database: Database;
  repos: Repositories;
  /** Redis key prefix (`{agentry}`): every queue's keys share one Redis Cluster slot. */
  prefix: string;
  /** A fail-fast connection (a `Cluster` when `AGENTRY_REDIS_CLUSTER_NODES` is set). */
  producerConnection: RedisClient;
  /**
   * How workers of this process connect to Redis: the URL or the Redis Cluster, and the password
   * to follow, if any.
   */
  redis: { url: RedisEndpoint; auth?: RedisAuth };
  producer: Producer;
  /** The run-lifecycle operations' dependencies. */
  engine: EngineDeps;
  /** Readiness checks of the shared dependencies (Postgres, Redis and its settings). */
  readiness: Record<string, ReadinessCheck>;
  /** Resolves secret references (cached, audited); its scrubber also cleans every log line. */
  secrets: SecretStore;
  /** OpenTelemetry spans (off unless `AGENTRY_TRACING=otlp`); flushed on close. */
  tracing: Tracing;
  close(options?: { deadlineMs?: number }): Promise<void>;
}

/**
 * Open the services of one process. Pass `log` with the same `scrubber` it scrubs with (see
 * `createLogger({ scrub })`), or neither: then both are made here.
 */
export async function openFleetServices(
  config: CommonConfig,
  options: {
    component: string;
    log?: Logger;
    scrubber?: Scrubber;
    registry?: Registry;
    env?: Record<string, string | undefined>;
  },
): Promise<FleetServices> {
  const scrubber = options.scrubber ?? createScrubber();
  const log =
    options.log ??
    createLogger({
      component: options.component,
      level: config.logLevel,
      scrub: scrubber.scrub,
    });
  const registry =
    options.registry ?? createRegistry({ component: options.component, defaultMetrics: true });
  const stack = new ResourceStack(log);
  try {
    const audit = secretAuditSink(log);
    const secrets = stack.push(
      'secrets',
      await openSecretStore(config.secrets, {
        actor: `${options.component}@${hostname()}:${process.pid}`,
        production: config.env === 'production',
        onAudit: (event) => audit.record(event),
        scrubber,
        ...(options.env ? { env: options.env } : {}),
      }),
      (s) => s.close(),
    );
    // Closed after everything that makes spans, so the last ones are exported.
    const tracing = stack.push(
      'tracing',
      await openFleetTracing(config, {
        component: options.component,
        registry,
        log,
        scrubber,
        secrets,
      }),
      (t) => t.shutdown(),
    );
    const database = stack.push(
      'database',
      await openConfiguredDatabase(config, secrets, log),
      (d) => d.close(),
    );
    const prefix = redisKeyPrefix(config.queuePrefix);
    const redisPasswordRef = config.redisPasswordRef;
    const endpoint = redisEndpoint(config);
    const redis = {
      url: endpoint,
      ...(redisPasswordRef === undefined
        ? {}
        : { auth: await followedSecret(secrets, redisPasswordRef) }),
    };
    const producerConnection = stack.push(
      'redis (producer)',
      createRedisConnection(endpoint, 'producer', {
        ...(redis.auth === undefined ? {} : { auth: redis.auth }),
        name: `${options.component}-producer`,
        log,
      }),
      (c) => c.quit().catch(() => c.disconnect()),
    );
    const producer = stack.push(
      'producer',
      createProducer({ connection: producerConnection, prefix, log }),
      (p) => p.close(),
    );
    // Log levels change at run time, fleet-wide: `PUT /v1/admin/log-level` announces on Redis.
    stack.push(
      'log-level listener',
      listenForLogLevels(
        duplicateConnection(producerConnection, `${options.component}-signals`),
        prefix,
        options.component,
        (level) => {
          log.level = level;
        },
        log,
      ),
      (l) => l.close(),
    );
    const repos = createRepositories(database.db);
    audit.attach(repos.audit);
    const readiness = fleetReadiness({
      db: database.db,
      redis: producerConnection,
      production: config.env === 'production',
      log,
    });
    // Self-check at start-up: warn now rather than at the first probe. Redis may not be up yet;
    // that is readiness's business, not a reason to refuse to start.
    await connected(producerConnection, 2_000);
    await Promise.resolve()
      .then(() => readiness.redis?.(AbortSignal.timeout(2_000)))
      .catch(() => undefined);
    log.info(
      {
        database: database.describe,
        redis:
          typeof endpoint === 'string'
            ? redactUrl(endpoint)
            : `cluster ${endpoint.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`,
        prefix,
      },
      'fleet services open',
    );
    return {
      config,
      log,
      registry,
      database,
      repos,
      prefix,
      producerConnection,
      redis,
      producer,
      engine: {
        repos,
        producer,
        log,
        announceCancel: (runId) => announceCancel(producerConnection, prefix, runId),
        tracing,
      },
      readiness,
      secrets,
      tracing,
      close: (o) => stack.close(o),
    };
  } catch (e) {
    await stack.close();
    throw e;
  }
}

/** Resolve once the connection is ready, or after `timeoutMs` (producers fail fast until then). */
function connected(connection: RedisClient, timeoutMs: number): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      connection.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    connection.once('ready', done);
  });
}

/**
 * A password connections follow: the value of `ref`, kept current by the store's change events,
 * reloaded (cache dropped) when Redis refuses it.
 */
async function followedSecret(secrets: SecretStore, ref: string): Promise<RedisAuth> {
  let current = await secrets.get(ref);
  secrets.onChange(ref, (value) => (current = value));
  return {
    current: () => current,
    async rejected() {
      secrets.invalidate(ref, 'redis refused the password');
      current = await secrets.get(ref);
    },
  };
}
