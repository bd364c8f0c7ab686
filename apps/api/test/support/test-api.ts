import { createHash, randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from '@agentry/db/testing';
import { deleteKeys } from '@agentry/queue/testing';
import { openFleetServices, type FleetServices } from '@agentry/engine';
import { Plan, topologicalOrder } from '@agentry/schema';
import { createApi, loadApiConfig, type ApiApp } from '../../src';

export const redisUrl = process.env.AGENTRY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const databaseUrl =
  process.env.AGENTRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface HttpAnswer<T> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

/**
 * A real API for one test file, in-process: its own Postgres schema (migrated) and Redis key
 * prefix, the real `createApi` on a free port. `close()` stops what was attached (LIFO), the API
 * and its services, then deletes every key under the prefix and drops the schema.
 */
export class TestApi {
  url = '';
  private readonly cleanups: Array<() => Promise<void>> = [];

  private constructor(
    readonly database: TestDatabase,
    readonly prefixBase: string,
    /** The environment the API was configured from; planner and executor configs reuse it. */
    readonly env: Record<string, string>,
    readonly services: FleetServices,
    readonly app: ApiApp,
  ) {}

  /** `env` overrides the defaults, e.g. `AGENTRY_API_TOKEN` or `AGENTRY_REDIS_URL`. */
  static async start(env: Record<string, string> = {}): Promise<TestApi> {
    const database = await createTestDatabase({ prefix: 't_api' });
    const prefixBase = `t-api-${randomBytes(4).toString('hex')}`;
    const fullEnv = {
      AGENTRY_ENV: 'test',
      AGENTRY_LOG_LEVEL: process.env.AGENTRY_TEST_LOG_LEVEL ?? 'silent',
      AGENTRY_REDIS_URL: redisUrl,
      AGENTRY_QUEUE_PREFIX: prefixBase,
      DATABASE_URL: databaseUrl,
      AGENTRY_DB_SCHEMA: database.schema,
      AGENTRY_API_PORT: '0',
      AGENTRY_HEALTH_PORT: '0',
      AGENTRY_RECONCILE_INTERVAL_MS: '0',
      ...env,
    };
    const config = loadApiConfig(fullEnv);
    let services: FleetServices | undefined;
    try {
      services = await openFleetServices(config, { component: 'api-test' });
      const app = await createApi(config, { services });
      const api = new TestApi(database, prefixBase, fullEnv, services, app);
      api.url = `http://127.0.0.1:${(await app.start()).port}`;
      return api;
    } catch (e) {
      await services?.close();
      await database.close();
      throw e;
    }
  }

  /** The Redis key prefix (a Cluster hash tag), e.g. `{t-api-1a2b3c4d}`. */
  get prefix(): string {
    return `{${this.prefixBase}}`;
  }

  /** Run `fn` on close, before the API stops (last added, first run). */
  onClose(fn: () => Promise<void>): void {
    this.cleanups.push(fn);
  }

  /** A raw BullMQ queue on this API's prefix, as any other producer or operator would open it. */
  rawQueue(name: string): Queue {
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue(name, { connection, prefix: this.prefix });
    this.onClose(async () => {
      await queue.close();
      await connection.quit();
    });
    return queue;
  }

  /** One HTTP call. An object body is sent as JSON; a string body as given. */
  async http<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer<T>> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let parsed: unknown = undefined;
    if (res.headers.get('content-type')?.includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, body: parsed as T, text, headers: res.headers };
  }

  async close(): Promise<void> {
    for (const fn of this.cleanups.splice(0).reverse()) await fn().catch(() => undefined);
    await this.app.close();
    await this.services.close();
    try {
      await deleteKeys(this.prefix, redisUrl);
    } finally {
      await this.database.close();
    }
  }
}

/**
 * Store a plan for a pending run and move it to `next`, as the planner would (through the real
 * repository): the way these tests get a run into `running` or `awaiting_approval` without a
 * planner. Returns the root steps the planner would now enqueue.
 */
/** The hash `storePlan` stores for `graph` (what an approval of it must name). */
export const planHashOf = (graph: Record<string, string[]>): string =>
  createHash('sha256')
    .update(`test-${Object.keys(graph).join('')}`)
    .digest('hex');

export async function storePlan(
  api: TestApi,
  runId: string,
  graph: Record<string, string[]>,
  next: 'running' | 'awaiting_approval',
): Promise<string[]> {
  const plan = Plan.parse({
    source: 'template',
    producedBy: 'test',
    summary: 'test plan',
    steps: Object.entries(graph).map(([id, dependsOn]) => ({
      id,
      tool: 'echo',
      input: { id },
      dependsOn,
    })),
  });
  const order = topologicalOrder(plan.steps);
  if (!order) throw new Error('the test plan has a cycle');
  const { rootStepIds } = await api.services.repos.runs.savePlan(
    runId,
    { plan, order, hash: planHashOf(graph) },
    next,
  );
  return rootStepIds;
}
