import { Queue, type JobType } from 'bullmq';
import { queueDepthStates, queueNames } from '@agentry/schema';
import { pass, skip, warn, type DoctorCheck, type Finding } from './doctor-check';
import type { RedisClient } from './doctor-context';

/** Which process takes the jobs of each worked queue (the fix when none is connected). */
const workedBy: Partial<Record<string, string>> = {
  [queueNames.plan]: 'the planner',
  [queueNames.step]: 'the executor',
};

export interface QueueCheckOptions {
  /** A waiting job older than this is a warning. @default 300000 (5 min) */
  maxWaitMs?: number;
}

/**
 * One agentry queue: its job counts by state, paused or not, the age of its oldest waiting job,
 * and (for a queue a process works) how many workers are connected. `agentry.dlq` has no worker
 * by design: its jobs are the dead letters, shown in Bull Board.
 */
export function queueCheck(name: string, options: QueueCheckOptions = {}): DoctorCheck {
  const maxWaitMs = options.maxWaitMs ?? 300_000;
  return {
    name: `queue:${name}`,
    async run(ctx) {
      const redis = await ctx.redis();
      if (!redis.ok) return skip('not checked: Redis is unreachable');
      // Built here rather than through the queue cache: a read-only check must not write the
      // queue's meta key (skipMetasUpdate), or a mistyped prefix would create a phantom queue.
      const queue = new Queue(name, {
        connection: redis.value,
        prefix: ctx.prefix,
        skipWaitingForReady: true,
        skipVersionCheck: true,
        skipMetasUpdate: true,
      });
      queue.on('error', () => undefined); // surfaced by the calls below
      try {
        return await inspect(queue, redis.value, ctx.now(), maxWaitMs, workedBy[name]);
      } finally {
        await queue.close().catch(() => undefined);
      }
    },
  };
}

async function inspect(
  queue: Queue,
  client: RedisClient,
  now: number,
  maxWaitMs: number,
  worker: string | undefined,
): Promise<Finding> {
  // `paused` is not a JobType in bullmq 6's typings, but its getCounts script counts the list.
  const counts = await queue.getJobCounts(...(queueDepthStates as readonly string[] as JobType[]));
  const parts = queueDepthStates
    .filter((s) => s !== 'paused' && s !== 'waiting-children')
    .map((s) => `${s} ${counts[s] ?? 0}`);
  const problems: string[] = [];
  const fixes: string[] = [];

  if (await queue.isPaused()) {
    problems.push(`paused (${counts.paused ?? 0} jobs held)`);
    fixes.push('resume it (Bull Board: Resume; or Queue.resume())');
  }
  // wait is a list: new jobs are pushed on the left, workers take from the right (the oldest).
  const oldestId = await client.lindex(queue.keys.wait ?? queue.toKey('wait'), -1);
  const stamp = oldestId === null ? null : await client.hget(queue.toKey(oldestId), 'timestamp');
  const ageMs = stamp === null ? 0 : Math.max(0, now - Number(stamp));
  if (ageMs > 0) parts.push(`oldest waiting ${(ageMs / 1_000).toFixed(0)} s`);

  if (worker === undefined) {
    parts.push('no worker by design (dead letters, shown in Bull Board)');
    return pass(parts.join(', '));
  }
  const workers = await countWorkers(queue);
  parts.push(
    workers === undefined ? 'workers unknown (CLIENT LIST refused)' : `${workers} worker(s)`,
  );
  if (workers === 0) {
    problems.push('no worker connected');
    fixes.push(
      `start ${worker} (or \`agentry dev\`) on this Redis with the same AGENTRY_QUEUE_PREFIX`,
    );
  }
  if (ageMs > maxWaitMs) {
    problems.push(`the oldest waiting job has waited ${(ageMs / 60_000).toFixed(1)} min`);
    fixes.push(
      `add workers to ${worker} (more replicas, or a higher concurrency), and check the active ones are not stuck`,
    );
  }
  if (problems.length === 0) return pass(parts.join(', '));
  return warn(`${problems.join('; ')}: ${parts.join(', ')}`, fixes.join('; '));
}

/** Connected workers, or undefined where CLIENT LIST is refused (some managed Redis). */
async function countWorkers(queue: Queue): Promise<number | undefined> {
  try {
    const workers = await queue.getWorkers();
    // BullMQ answers one pseudo-client where the provider refuses CLIENT LIST (GCP).
    if (workers.length === 1 && !('addr' in (workers[0] ?? {}))) return undefined;
    return workers.length;
  } catch {
    return undefined;
  }
}
