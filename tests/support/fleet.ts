import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from '@agentry/db/testing';
import { createRedisConnection, type RedisClient, type RedisEndpoint } from '@agentry/queue';
import { deleteKeys } from '@agentry/queue/testing';
import { parseRedisClusterNodes } from '@agentry/schema';
import { FleetProcess, type FleetProcessSource } from './fleet-process';

export const redisUrl = process.env.AGENTRY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const databaseUrl =
  process.env.AGENTRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A throwaway fleet for one test file: its own Postgres schema (migrated) and Redis key prefix,
 * and real planner, executor and API processes started on demand. `close()` stops them and
 * removes every key and the schema.
 */
export class TestFleet {
  readonly processes: FleetProcess[] = [];
  apiUrl = '';

  private constructor(
    readonly database: TestDatabase,
    readonly prefixBase: string,
    readonly env: Record<string, string>,
  ) {}

  /** The Redis the fleet's processes use (`AGENTRY_REDIS_URL`; a private one in some chaos tests). */
  get redisUrl(): string {
    return this.env.AGENTRY_REDIS_URL ?? redisUrl;
  }

  /**
   * Where the fleet's Redis is, as its processes read it: the Redis Cluster of
   * `AGENTRY_REDIS_CLUSTER_NODES` when that is set, else {@link redisUrl}.
   */
  get redisEndpoint(): RedisEndpoint {
    const nodes = this.env.AGENTRY_REDIS_CLUSTER_NODES;
    return nodes === undefined || nodes === ''
      ? this.redisUrl
      : { nodes: parseRedisClusterNodes(nodes) };
  }

  /**
   * A new connection to the fleet's Redis, owned by the caller: on one server, `new Redis(url)`
   * with `maxRetriesPerRequest: null` (as BullMQ wants) unless told otherwise; on a Redis Cluster,
   * a `worker` connection of `createRedisConnection` (retries bounded by the Cluster's redirects).
   */
  connectRedis(options: { maxRetriesPerRequest?: number | null } = {}): RedisClient {
    const endpoint = this.redisEndpoint;
    if (typeof endpoint !== 'string') return createRedisConnection(endpoint, 'worker');
    return new Redis(endpoint, { maxRetriesPerRequest: options.maxRetriesPerRequest ?? null });
  }

  static async create(overrides: Record<string, string> = {}): Promise<TestFleet> {
    const database = await createTestDatabase({
      prefix: 't_e2e',
      // A fleet given a database server of its own (a chaos test's private Postgres) has its
      // schema there; otherwise the shared test server's.
      ...(overrides.DATABASE_URL === undefined ? {} : { url: overrides.DATABASE_URL }),
    });
    const prefixBase = `t-e2e-${randomBytes(4).toString('hex')}`;
    return new TestFleet(database, prefixBase, {
      AGENTRY_ENV: 'test',
      AGENTRY_REDIS_URL: redisUrl,
      AGENTRY_QUEUE_PREFIX: prefixBase,
      DATABASE_URL: databaseUrl,
      AGENTRY_DB_SCHEMA: database.schema,
      AGENTRY_HEALTH_PORT: '0',
      AGENTRY_API_PORT: '0',
      AGENTRY_RECONCILE_INTERVAL_MS: '0',
      AGENTRY_QUEUE_DEPTH_INTERVAL_MS: '500',
      ...overrides,
    });
  }

  /** The Redis key prefix the fleet uses (a Cluster hash tag). */
  get prefix(): string {
    return `{${this.prefixBase}}`;
  }

  start(
    app: FleetProcess['app'],
    env: Record<string, string> = {},
    from?: FleetProcessSource,
  ): FleetProcess {
    const p = new FleetProcess(app, { ...this.env, ...env }, from);
    this.processes.push(p);
    return p;
  }

  /** Start planner, executor and API; resolve once all three are taking work. */
  async startAll(): Promise<{ planner: FleetProcess; executor: FleetProcess; api: FleetProcess }> {
    const planner = this.start('planner');
    const executor = this.start('executor');
    const api = this.start('api');
    const [listening] = await Promise.all([
      api.waitForLog((l) => l.msg === 'api listening'),
      planner.waitForLog((l) => l.msg === 'planner started'),
      executor.waitForLog((l) => l.msg === 'executor started'),
    ]);
    this.apiUrl = `http://127.0.0.1:${String(listening.port)}`;
    return { planner, executor, api };
  }

  async http<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T; headers: Headers }> {
    const res = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: (text ? JSON.parse(text) : undefined) as T,
      headers: res.headers,
    };
  }

  /** Poll a run until `until(state)` holds; returns the run detail. */
  async waitForRun(runId: string, until: (state: string) => boolean, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { status, body } = await this.http<RunDetail>('GET', `/v1/runs/${runId}`);
      if (status === 200 && until(body.run.state)) return body;
      if (Date.now() > deadline)
        throw new Error(`run ${runId} is ${status === 200 ? body.run.state : status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A raw BullMQ queue on the fleet's Redis, as a producer in any language would use it. */
  rawQueue(name: string): Queue {
    return new Queue(name, {
      connection: this.connectRedis(),
      prefix: this.prefix,
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop()));
    await deleteKeys(this.prefix, this.redisEndpoint).catch((error: unknown) => {
      // A private Redis (or Redis Cluster) a chaos test stopped has nothing left to clean.
      if (this.redisEndpoint === redisUrl) throw error;
    });
    await this.database.close();
  }
}

export interface RunDetail {
  run: {
    id: string;
    state: string;
    error: { code: string; message: string } | null;
    correlationId: string;
  };
  plan: { summary: string; producedBy: string; hash: string } | null;
  steps: Array<{
    stepId: string;
    tool: string;
    state: string;
    attempts: number;
    output: unknown;
    compensatedAt: string | null;
    attemptHistory: Array<{ attempt: number; outcome: string }>;
  }>;
}
