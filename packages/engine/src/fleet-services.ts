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
import type { EngineDeps } from './engine-deps';
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
      close: (o) => stack.close(o),
    };
  } catch (e) {
    await stack.close();
    throw e;
  }
}
