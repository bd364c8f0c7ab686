import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { dispatchSteps } from '@agentry/engine';
import { afterAll, beforeAll } from 'vitest';
import { seedPlannedRun, testRedisUrl, waitFor, type TestFleet } from '@agentry/engine/testing';
import type { JobContext } from '@agentry/queue';
import { AppError, type RunState, type StepInput } from '@agentry/schema';
import { z } from 'zod';
import {
  builtinTools,
  createExecutor,
  createToolRegistry,
  defineTool,
  loadExecutorConfig,
} from '../src';
import type { ExecutorApp, StepJobDeps } from '../src';

import { openTestFleet } from '@agentry/engine/testing';

export { openTestFleet, waitFor, type TestFleet } from '@agentry/engine/testing';

/** Executor settings for tests: short locks, one stall allowed. */
export function executorConfig(fleet: TestFleet, env: Record<string, string> = {}) {
  return loadExecutorConfig({
    ...fleet.env,
    AGENTRY_EXECUTOR_CONCURRENCY: '4',
    AGENTRY_EXECUTOR_LOCK_MS: '1000',
    AGENTRY_EXECUTOR_MAX_STALLED: '1',
    ...env,
  });
}

export interface ToolCall {
  stepId: string;
  attempt: number;
  startedAt: number;
  finishedAt?: number;
}

/**
 * `rec`: a test tool that records every call and every compensation, in order. Input `ms`
 * makes it take that long (honouring the signal); `fail` makes it throw like `echo`.
 */
export function recordingTool() {
  const calls: ToolCall[] = [];
  const compensations: string[] = [];
  const tool = defineTool({
    name: 'rec',
    description: 'Records its calls (tests only).',
    input: z.strictObject({
      ms: z.number().int().min(0).default(0),
      fail: z.enum(['transient', 'fatal']).optional(),
    }),
    output: z.object({ stepId: z.string() }),
    risk: 'low',
    async run(input, ctx) {
      const call: ToolCall = { stepId: ctx.stepId, attempt: ctx.attempt, startedAt: Date.now() };
      calls.push(call);
      if (input.ms > 0) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, input.ms);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(ctx.signal.reason as Error);
          });
        });
      }
      call.finishedAt = Date.now();
      if (input.fail === 'transient') throw new AppError('TRANSIENT', 'rec: transient');
      if (input.fail === 'fatal')
        throw new AppError('TOOL_FAILED', 'rec: fatal', { retryable: false });
      return { stepId: ctx.stepId };
    },
    async compensate(_input, _output, ctx) {
      compensations.push(ctx.stepId);
    },
  });
  return {
    tool,
    calls,
    compensations,
    ranOf: (id: string) => calls.filter((c) => c.stepId === id),
  };
}

/** The built-in tools plus `rec`, for `createExecutor({ tools })` and direct handler calls. */
export function testTools(rec: ReturnType<typeof recordingTool>) {
  return [...builtinTools({ http: {} }), rec.tool];
}

/** Step handler deps over a test fleet with the given tools. */
export function stepJobDeps(fleet: TestFleet, tools: ReturnType<typeof testTools>): StepJobDeps {
  return { ...fleet.services.engine, tools: createToolRegistry(tools) };
}

/** A job context like the worker runtime builds, for calling a handler directly. */
export function jobCtx(fleet: TestFleet, jobId: string, attempt = 1, maxAttempts = 3): JobContext {
  return {
    jobId,
    queue: 'agentry.step',
    name: 'step',
    attempt,
    maxAttempts,
    isFinalAttempt: attempt >= maxAttempts,
    signal: new AbortController().signal,
    log: fleet.services.log.child({ jobId }),
    worker: 'test-worker',
    superseded: (reason) => new AppError('CANCELLED', reason, { details: { superseded: true } }),
  };
}

/** Store a plan as the planner does and enqueue its roots. */
export async function startRun(
  fleet: TestFleet,
  steps: StepInput[],
  options: { budgetUsd?: number } = {},
) {
  const seeded = await seedPlannedRun(fleet.repos, steps, options);
  await dispatchSteps(
    fleet.services.engine,
    { id: seeded.runId, correlationId: seeded.correlationId, tenantId: 'acme' },
    seeded.rootStepIds,
  );
  return seeded;
}

/** Wait until the run reaches `state`; its detail. */
export async function runReaches(
  fleet: TestFleet,
  runId: string,
  state: RunState,
  timeoutMs = 10_000,
) {
  await waitFor(
    async () => (await fleet.repos.runs.get(runId))?.state === state,
    timeoutMs,
    `run ${state}`,
  );
  const detail = await fleet.repos.runs.detail(runId);
  if (!detail) throw new Error(`run ${runId} vanished`);
  return detail;
}

/** The dead letters of one run. */
export async function deadLettersOf(fleet: TestFleet, runId: string) {
  return (await fleet.repos.deadLetters.list()).filter((l) => l.runId === runId);
}

/**
 * The dead letters of one run, once there are `count` (a handler fails the run before the worker
 * runtime captures the dead letter, so the run's state alone is not enough to wait on).
 */
export async function deadLettersOnce(fleet: TestFleet, runId: string, count = 1) {
  await waitFor(
    async () => (await deadLettersOf(fleet, runId)).length >= count,
    5_000,
    'dead letter',
  );
  return deadLettersOf(fleet, runId);
}

/**
 * For a test file: a test fleet with a running executor offering the built-ins plus `rec`,
 * opened before the file's tests and closed after them. Read `fleet` and `rec` inside tests.
 */
export function useRunningExecutor(name: string, env: Record<string, string> = {}) {
  const rec = recordingTool();
  const t = { rec } as { rec: typeof rec; fleet: TestFleet; executor: ExecutorApp };
  beforeAll(async () => {
    t.fleet = await openTestFleet(name);
    t.executor = await createExecutor(executorConfig(t.fleet, env), {
      services: t.fleet.services,
      health: false,
      tools: testTools(rec),
    });
    await t.executor.start();
  });
  afterAll(async () => {
    await t.executor?.close({ deadlineMs: 2_000 });
    await t.fleet?.close();
  });
  return t;
}

/** Every row of every table of the fleet's schema, as JSON text. */
export async function postgresText(f: TestFleet): Promise<string> {
  const db = f.services.database.db;
  const { rows: tables } = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db);
  const parts: string[] = [];
  for (const { name } of tables) {
    const { rows } = await sql<{ row: string }>`
      select row_to_json(t)::text as row from ${sql.table(name)} t`.execute(db);
    parts.push(...rows.map((r) => r.row));
  }
  return parts.join('\n');
}

/** Every key and value under the prefix (strings, hashes, lists, sets, sorted sets, streams). */
export async function redisText(prefix: string): Promise<string> {
  const redis = new Redis(testRedisUrl);
  try {
    const keys = await redis.keys(`${prefix}*`);
    const parts: string[] = [...keys];
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'string') parts.push((await redis.get(key)) ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') parts.push(...(await redis.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(...(await redis.smembers(key)));
      else if (type === 'zset') parts.push(...(await redis.zrange(key, 0, -1)));
      else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    }
    return parts.join('\n');
  } finally {
    redis.disconnect();
  }
}
