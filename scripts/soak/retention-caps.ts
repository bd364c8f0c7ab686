import type { Redis } from 'ioredis';
import { completedRetention } from '@agentry/queue';
import type { RetentionCaps } from './judge-soak';

/** BullMQ's default event stream cap, when a queue's meta does not say. */
const defaultMaxLenEvents = 10_000;

/**
 * The caps Redis is held to, read from the product rather than assumed: agentry's
 * `completedRetention.count` (every job it enqueues carries it) and each queue's
 * `opts.maxLenEvents` as stored in its meta hash.
 */
export async function readRetentionCaps(
  redis: Redis,
  prefix: string,
  queues: readonly string[],
): Promise<RetentionCaps> {
  const events: Record<string, number> = {};
  for (const queue of queues) {
    const stored = await redis.hget(`${prefix}:${queue}:meta`, 'opts.maxLenEvents');
    events[queue] = stored === null ? defaultMaxLenEvents : Number(stored);
  }
  return { completed: completedRetention.count, events };
}
