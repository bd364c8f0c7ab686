import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { createRepositories, openDatabase, type Database, type Repositories } from '@agentry/db';
import { createLogger, createRegistry, redactUrl, type Logger } from '@agentry/observability';
import {
  createProducer,
  createRedisConnection,
  redisKeyPrefix,
  type Producer,
} from '@agentry/queue';
import type { CommonConfig } from '@agentry/schema';
import type { ReadinessCheck } from '@agentry/observability';
import type { EngineDeps } from './engine-deps';
import { fleetReadiness } from './fleet-readiness';
import { ResourceStack } from './resource-stack';

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
  producerConnection: Redis;
  producer: Producer;
  /** The run-lifecycle operations' dependencies. */
  engine: EngineDeps;
  /** Readiness checks of the shared dependencies (Postgres, Redis and its settings). */
  readiness: Record<string, ReadinessCheck>;
  close(options?: { deadlineMs?: number }): Promise<void>;
}

export async function openFleetServices(
  config: CommonConfig,
  options: { component: string; log?: Logger; registry?: Registry },
): Promise<FleetServices> {
  const log = options.log ?? createLogger({ component: options.component, level: config.logLevel });
  const registry =
    options.registry ?? createRegistry({ component: options.component, defaultMetrics: true });
  const stack = new ResourceStack(log);
  try {
    const database = stack.push(
      'database',
      await openDatabase({
        url: config.databaseUrl,
        dataDir: join(config.dataDir, 'pgdata'),
        schema: config.databaseSchema,
        log,
      }),
      (d) => d.close(),
    );
    const prefix = redisKeyPrefix(config.queuePrefix);
    const producerConnection = stack.push(
      'redis (producer)',
      createRedisConnection(config.redisUrl, 'producer', {
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
    const repos = createRepositories(database.db);
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
      { database: database.describe, redis: redactUrl(config.redisUrl), prefix },
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
      producer,
      engine: { repos, producer, log },
      readiness,
      close: (o) => stack.close(o),
    };
  } catch (e) {
    await stack.close();
    throw e;
  }
}

/** Resolve once the connection is ready, or after `timeoutMs` (producers fail fast until then). */
function connected(connection: Redis, timeoutMs: number): Promise<void> {
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
