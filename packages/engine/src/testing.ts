import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Repositories } from '@agentry/db';
import { createTestDatabase, type TestDatabase } from '@agentry/db/testing';
import { createLogger, createRegistry } from '@agentry/observability';
import type { Producer } from '@agentry/queue';
import { deleteKeys, waitFor } from '@agentry/queue/testing';
import {
  commonEnv,
  Intent,
  parseEnv,
  toCommonConfig,
  validatePlan,
  type QueueName,
  type StepInput,
} from '@agentry/schema';
import { createScrubber } from '@agentry/secrets';
import { openFleetServices, type FleetServices } from './fleet-services';

/**
 * Test helpers for integration tests of the engine and the apps built on it (imported as
 * `@agentry/engine/testing`, never by production code): a throwaway fleet on the real Redis and
 * Postgres, isolated by its own key prefix and schema.
 */

/** @default process.env.AGENTRY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' */
export const testRedisUrl = process.env.AGENTRY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const testDatabaseUrl =
  process.env.AGENTRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** One JSON log line as written by the fleet's logger. */
export type LogRecord = Record<string, unknown> & { level: string; msg?: string };

export interface TestFleet {
  database: TestDatabase;
  /** The environment of this fleet: pass it (plus overrides) to `loadPlannerConfig` & co. */
  env: Record<string, string>;
  services: FleetServices;
  repos: Repositories;
  /** Every log line written through `services.log` (and its children), parsed. */
  logs: LogRecord[];
  /** The producer's BullMQ queue handle, for inspecting jobs. */
  queue(name: QueueName): ReturnType<Producer['queue']>;
  /** Close the services, delete every Redis key of the prefix and drop the schema. */
  close(): Promise<void>;
}

/** Open fleet services on a fresh schema and Redis prefix (`t-<name>-<random>`). */
/** `env` adds to or overrides the fleet's environment (e.g. secret backend settings). */
export async function openTestFleet(
  name: string,
  extraEnv: Record<string, string> = {},
): Promise<TestFleet> {
  const database = await createTestDatabase({ prefix: `t_${name.replace(/\W/g, '_')}` });
  const env = {
    AGENTRY_ENV: 'test',
    AGENTRY_REDIS_URL: testRedisUrl,
    AGENTRY_QUEUE_PREFIX: `t-${name}-${randomBytes(4).toString('hex')}`,
    DATABASE_URL: testDatabaseUrl,
    AGENTRY_DB_SCHEMA: database.schema,
    AGENTRY_LOG_LEVEL: 'debug',
    AGENTRY_HEALTH_PORT: '0',
    AGENTRY_RECONCILE_INTERVAL_MS: '0',
    AGENTRY_SHUTDOWN_DEADLINE_MS: '2000',
    ...extraEnv,
  };
  const logs: LogRecord[] = [];
  // As in production: every line passes the secret store's scrubber before it is kept.
  const scrubber = createScrubber();
  const log = createLogger({
    component: name,
    level: 'debug',
    pretty: false,
    destination: { write: (line: string) => void logs.push(JSON.parse(line) as LogRecord) },
    scrub: scrubber.scrub,
  });
  let services: FleetServices;
  try {
    services = await openFleetServices(toCommonConfig(parseEnv(commonEnv, env)), {
      component: name,
      log,
      scrubber,
      registry: createRegistry({ component: name }),
    });
  } catch (e) {
    await database.close();
    throw e;
  }
  return {
    database,
    env,
    services,
    repos: services.repos,
    logs,
    queue: (q) => services.producer.queue(q),
    async close() {
      await services.close({ deadlineMs: 5_000 });
      await deleteKeys(services.prefix, testRedisUrl);
      await database.close();
    },
  };
}

export { deleteKeys, waitFor };

/**
 * Record a run and store a plan of `steps` as the planner does (one transaction) without
 * enqueueing anything — also the state a crash between that commit and the enqueue leaves.
 */
export async function seedPlannedRun(
  repos: Repositories,
  steps: StepInput[],
  options: { dryRun?: boolean; tenantId?: string; budgetUsd?: number } = {},
): Promise<{ runId: string; correlationId: string; rootStepIds: string[]; planHash: string }> {
  const runId = randomUUID();
  const correlationId = `corr-${runId.slice(0, 8)}`;
  const intent = Intent.parse({
    text: 'seeded',
    tenantId: options.tenantId ?? 'acme',
    dryRun: options.dryRun ?? false,
  });
  await repos.runs.create({
    id: runId,
    tenantId: intent.tenantId,
    correlationId,
    dryRun: intent.dryRun,
    intent,
    ...(options.budgetUsd === undefined ? {} : { budgetUsd: options.budgetUsd }),
  });
  const { plan, order } = validatePlan(
    { source: 'template', producedBy: 'test', summary: 'seeded', steps },
    new Set(steps.map((s) => s.tool)),
  );
  const planHash = createHash('sha256').update(JSON.stringify(plan)).digest('hex');
  const { rootStepIds } = await repos.runs.savePlan(
    runId,
    { plan, order, hash: planHash },
    options.dryRun ? 'awaiting_approval' : 'running',
  );
  return { runId, correlationId, rootStepIds, planHash };
}
