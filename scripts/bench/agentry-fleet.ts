import { closeSync, openSync, writeSync } from 'node:fs';
import { createTestDatabase, type TestDatabase } from '@agentry/db/testing';
import { createLogger } from '@agentry/observability';
import { createScrubber } from '@agentry/secrets';
import { openFleetServices, submitIntent, type FleetServices } from '@agentry/engine';
import { createExecutor, loadExecutorConfig } from '../../apps/executor/src/index';
import { createPlanner, loadPlannerConfig } from '../../apps/planner/src/index';
import type { RunState } from '@agentry/schema';
import { databaseUrl, deleteKeys, dropAtExit, redisUrl, uniqueBase } from './bench-env';

export interface Workers {
  close(): Promise<void>;
}

/**
 * A throwaway agentry fleet for one section: its own Postgres schema (migrated) and Redis key
 * prefix, the shared `FleetServices`, and in-process planner/executor started on demand.
 * `close()` stops everything and deletes every key of the prefix; the schema is dropped by
 * `dropBenchSchemas()` when the whole run ends.
 */
export interface AgentryFleet {
  database: TestDatabase;
  /** The queue prefix base (keys live under `{base}:`). */
  base: string;
  services: FleetServices;
  /** Environment for a real process (`node --import tsx apps/<app>/src/main.ts`) on this fleet. */
  env: Record<string, string>;
  /** Start an in-process planner and/or executor (`health: false`) on the shared services. */
  startWorkers(which: { planner?: boolean; executor?: boolean }): Promise<Workers>;
  /** `submitIntent` as a producer would; returns the run id. */
  submit(text: string): Promise<string>;
  /** How many of `runIds` are in `state`. */
  countRuns(runIds: readonly string[], state: RunState): Promise<number>;
  /** created/finished instants (ms since epoch) of finished runs among `runIds`. */
  finishedAt(runIds: readonly string[]): Promise<Map<string, number>>;
  close(): Promise<void>;
}

export interface FleetOptions {
  /**
   * In-process workers log at `info` to this file, as a production process whose stdout goes to
   * a file (synchronous writes, scrubbed, JSON lines). Without it they log only warnings.
   */
  logFile?: string;
}

export async function openAgentryFleet(
  tag: string,
  options: FleetOptions = {},
): Promise<AgentryFleet> {
  const base = uniqueBase(tag);
  // Not the tests' `t_` prefix: their teardown drops every `t_…` schema, also mid-bench.
  const database = await createTestDatabase({ url: databaseUrl, prefix: 'bench' });
  dropAtExit(database.schema);
  const env: Record<string, string> = {
    AGENTRY_ENV: 'test',
    AGENTRY_REDIS_URL: redisUrl,
    AGENTRY_QUEUE_PREFIX: base,
    DATABASE_URL: databaseUrl,
    AGENTRY_DB_SCHEMA: database.schema,
    AGENTRY_HEALTH_PORT: '0',
    AGENTRY_RECONCILE_INTERVAL_MS: '0',
    // In-process workers log only warnings: the bench measures the pipeline, not stdout.
    AGENTRY_LOG_LEVEL: 'warn',
  };
  let services: FleetServices;
  const logFd = options.logFile === undefined ? undefined : openSync(options.logFile, 'w');
  try {
    const logging =
      logFd === undefined
        ? {}
        : (() => {
            const scrubber = createScrubber();
            const log = createLogger({
              component: 'bench',
              level: 'info',
              pretty: false,
              scrub: scrubber.scrub,
              destination: { write: (line: string) => void writeSync(logFd, line) },
            });
            return { log, scrubber };
          })();
    services = await openFleetServices(loadPlannerConfig(env), {
      component: 'bench',
      ...logging,
    });
  } catch (e) {
    if (logFd !== undefined) closeSync(logFd);
    await database.close();
    throw e;
  }
  const db = services.database.db;

  const startWorkers = async (which: { planner?: boolean; executor?: boolean }) => {
    const apps: Array<{ start(): Promise<void>; close(): Promise<void> }> = [];
    try {
      if (which.planner)
        apps.push(await createPlanner(loadPlannerConfig(env), { services, health: false }));
      if (which.executor)
        apps.push(await createExecutor(loadExecutorConfig(env), { services, health: false }));
      for (const app of apps) await app.start();
    } catch (e) {
      await Promise.allSettled(apps.map((a) => a.close()));
      throw e;
    }
    return { close: async () => void (await Promise.all(apps.map((a) => a.close()))) };
  };

  return {
    database,
    base,
    services,
    env,
    startWorkers,
    submit: async (text) =>
      (await submitIntent(services.engine, { text, tenantId: 'bench' })).runId,
    countRuns: async (runIds, state) => {
      if (runIds.length === 0) return 0;
      const row = await db
        .selectFrom('runs')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('id', 'in', runIds)
        .where('state', '=', state)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    finishedAt: async (runIds) => {
      const rows =
        runIds.length === 0
          ? []
          : await db
              .selectFrom('runs')
              .select(['id', 'finishedAt'])
              .where('id', 'in', runIds)
              .where('finishedAt', 'is not', null)
              .execute();
      return new Map(rows.map((r) => [r.id, r.finishedAt?.getTime() ?? Number.NaN]));
    },
    close: async () => {
      try {
        await services.close();
      } finally {
        if (logFd !== undefined) closeSync(logFd);
        await deleteKeys(base).catch((e: unknown) =>
          console.warn(`redis cleanup failed: ${String(e)}`),
        );
        await database.close();
      }
    },
  };
}
