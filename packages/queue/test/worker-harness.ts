import { queueNames, type JobPayloadInput } from '@agentry/schema';
import type { Redis } from 'ioredis';
import { afterAll, afterEach } from 'vitest';
import type { FailedForGood } from '../src/dead-letter-store';
import { createProducer, type Producer } from '../src/producer';
import type { JobFinishedEvent } from '../src/queue-observer';
import { createRedisConnection } from '../src/redis-connection';
import {
  createWorkerRuntime,
  type WorkerRuntime,
  type WorkerRuntimeOptions,
} from '../src/worker-runtime';
import {
  deleteKeys,
  memoryLogger,
  MemoryDeadLetters,
  redisUrl,
  testPrefix,
  untilReady,
} from './support';

export const runId = '2b8e7a8e-6c3a-4d6a-9d3e-2f1a3b4c5d6e';
export const step = (stepId: string): JobPayloadInput<'step'> => ({
  runId,
  stepId,
  correlationId: 'corr-1',
});

export type StepOptions = WorkerRuntimeOptions<'agentry.step'>;

export const noCompensate: StepOptions['handlers']['compensate'] = async () => undefined;

/**
 * For a test file: `setup(handlers)` starts a step-queue worker runtime on a fresh prefix with an
 * in-memory dead-letter store and a producer; everything closes after each test, keys after all.
 */
export function useWorkerHarness() {
  const prefixes: string[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(p);
  });

  const setup = async (handlers: StepOptions['handlers'], extra: Partial<StepOptions> = {}) => {
    const prefix = testPrefix('worker');
    prefixes.push(prefix);
    const store = new MemoryDeadLetters();
    const log = memoryLogger();
    const finished: JobFinishedEvent[] = [];
    const failedForGood: FailedForGood[] = [];
    const runtime: WorkerRuntime = createWorkerRuntime({
      queue: queueNames.step,
      connection: { url: redisUrl },
      prefix,
      handlers,
      log,
      deadLetters: store,
      observer: { jobFinished: (e) => finished.push(e) },
      hooks: { onFailedForGood: async (f) => void failedForGood.push(f) },
      lockDurationMs: 2_000,
      stalledIntervalMs: 1_000,
      ...extra,
    });
    const connection: Redis = createRedisConnection(redisUrl, 'producer');
    await untilReady(connection);
    const producer: Producer = createProducer({ connection, prefix });
    closers.push(async () => {
      await runtime.close({ deadlineMs: 2_000 });
      await producer.close();
      await connection.quit();
    });
    return { prefix, store, log, finished, failedForGood, runtime, producer, connection };
  };
  /** Close `fn`'s resource after the current test, before the runtime. */
  const closeAfter = (fn: () => Promise<unknown>) => void closers.push(fn);
  return { setup, closeAfter };
}
