import { AppError, isAppError } from '@agentry/schema';
import { afterEach, describe, expect, it } from 'vitest';
import type { Producer } from '../src/producer';
import { createRedisAdmission, parseRedisMemory } from '../src/redis-admission';
import { createRedisConnection } from '../src/redis-connection';
import { isRedisOutOfMemory, toQueueError } from '../src/to-queue-error';
import { memoryLogger, redisUrl, testPrefix, untilReady, waitFor } from './support';

/** What Redis answers to a write above `maxmemory` under `noeviction`. */
const oomReply = () =>
  Object.assign(new Error("OOM command not allowed when used memory > 'maxmemory'."), {
    name: 'ReplyError',
  });

function refusal(fn: () => void): AppError {
  try {
    fn();
  } catch (e) {
    if (isAppError(e)) return e;
    throw e;
  }
  throw new Error('admitted');
}

describe('createRedisAdmission', () => {
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it('refuses at once while Redis is unreachable, saying why and when to retry', () => {
    const connection = createRedisConnection('redis://127.0.0.1:1', 'producer');
    closers.push(() => connection.disconnect());
    const admission = createRedisAdmission({
      connection,
      prefix: testPrefix('admission'),
      maxMemoryRatio: 0.9,
      log: memoryLogger(),
    });
    admission.start();
    closers.push(() => admission.close());
    const error = refusal(() => admission.check('the intent'));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toMatch(
      /the intent was not accepted: .*unreachable.*same idempotency key/,
    );
    expect(error.details).toEqual({ reason: 'redis_unreachable', retryAfterMs: 1_000 });
  });

  it('admits while Redis answers; a write refused for memory closes it until a reading shows room', async () => {
    const connection = createRedisConnection(redisUrl, 'producer');
    closers.push(() => connection.quit());
    await untilReady(connection);
    const log = memoryLogger();
    const admission = createRedisAdmission({
      connection,
      prefix: testPrefix('admission'),
      maxMemoryRatio: 0.9,
      refreshMs: 100,
      log,
    });
    admission.start();
    closers.push(() => admission.close());
    expect(() => admission.check('the intent')).not.toThrow();

    admission.observe(new AppError('TIMEOUT', 'slow')); // not about memory: ignored
    expect(() => admission.check('the intent')).not.toThrow();

    // Through a watched producer, as the API's engine reports its failed enqueues.
    const failing = {
      enqueue: () => Promise.reject(toQueueError(oomReply(), 'enqueue plan')),
    } as unknown as Producer;
    await expect(
      admission.watch(failing).enqueue('plan', {} as never, { jobId: 'p' }),
    ).rejects.toThrow(/its memory is full/);
    expect(refusal(() => admission.check('the intent')).details).toEqual({
      reason: 'redis_memory_full',
      retryAfterMs: 1_000,
    });
    expect(log.lines.map((l) => l.msg)).toContainEqual(expect.stringMatching(/^refusing new work/));

    // The shared test Redis has no maxmemory: the next reading finds room (no limit) again.
    await waitFor(
      () => {
        try {
          admission.check('the intent');
          return true;
        } catch {
          return false;
        }
      },
      5_000,
      'admission after a reading',
    );
    expect(log.lines.map((l) => l.msg)).toContain('accepting new work again');
  });
});

describe('Redis memory errors', () => {
  it('reads used_memory and maxmemory from INFO memory', () => {
    expect(parseRedisMemory('# Memory\r\nused_memory:1024\r\nmaxmemory:4096\r\n')).toEqual({
      usedBytes: 1024,
      maxBytes: 4096,
    });
    expect(parseRedisMemory('').usedBytes).toBeNaN();
  });

  it('maps an OOM refusal to UNAVAILABLE (503, retryable), keeping it recognisable', () => {
    const error = toQueueError(oomReply(), 'enqueue plan');
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toBe('enqueue plan: Redis refused the write, its memory is full');
    expect(isRedisOutOfMemory(error)).toBe(true);
    expect(isRedisOutOfMemory(oomReply())).toBe(true);
    expect(isRedisOutOfMemory(new Error('ECONNREFUSED'))).toBe(false);
  });
});
