import type { JobsOptions, Queue } from 'bullmq';
import type { RedisClient } from './redis-client';

/** One job to add, with the key of its hash (to tell whether it existed). */
export interface PendingAdd {
  queue: Queue;
  name: string;
  data: unknown;
  opts: JobsOptions;
  /** `queue.toKey(jobId)`. */
  jobKey: string;
}

interface Waiter {
  add: PendingAdd;
  resolve: (created: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for enqueues: an add made while the previous batch is in flight waits and goes
 * with every add that arrived meanwhile. A lone add is written as before: `EXISTS` of its key,
 * then BullMQ's add script, back to back on the same connection (one round trip). A batch is
 * written as two pipelines, also back to back: the `EXISTS` of every key, then every job through
 * `Queue.addBulk` (one pipeline per queue): two socket writes and one round trip for the whole
 * batch instead of two writes per job. Resolves each add with whether its job was created
 * (its key did not exist just before), once Redis has answered its add.
 *
 * A failed `addBulk` (BullMQ reports the first failed add, not which) is retried job by job: a
 * job the bulk did add is then a no-op duplicate, and `created` still comes from the `EXISTS`
 * written before. A failed `EXISTS` (the connection) fails every add of its batch, as it would
 * have failed each alone.
 */
export function createAddBatcher(connection: RedisClient): (add: PendingAdd) => Promise<boolean> {
  let waiting: Waiter[] = [];
  let inFlight = false;

  const addOne = async (a: PendingAdd): Promise<boolean> => {
    // Written before the add script and answered before it: what existed just before the add.
    const existed = connection.exists(a.jobKey);
    const added = a.queue.add(a.name, a.data, a.opts);
    existed.catch(() => undefined); // if the add fails, its error is the one reported
    await added;
    return (await existed) === 0;
  };

  const addMany = async (batch: Waiter[]): Promise<void> => {
    const pipeline = connection.pipeline();
    for (const w of batch) pipeline.exists(w.add.jobKey);
    const existed = pipeline.exec();
    existed.catch(() => undefined);
    const byQueue = new Map<Queue, Waiter[]>();
    for (const w of batch) {
      const same = byQueue.get(w.add.queue);
      if (same) same.push(w);
      else byQueue.set(w.add.queue, [w]);
    }
    const added = await Promise.all(
      [...byQueue].map(async ([queue, ws]) => {
        try {
          await queue.addBulk(
            ws.map((w) => ({ name: w.add.name, data: w.add.data, opts: w.add.opts })),
          );
          return ws.map(() => undefined);
        } catch {
          return Promise.all(
            ws.map((w) =>
              queue.add(w.add.name, w.add.data, w.add.opts).then(
                () => undefined,
                (e: unknown) => ({ error: e }),
              ),
            ),
          );
        }
      }),
    );
    let replies: Array<[Error | null, unknown]>;
    try {
      replies = ((await existed) ?? []) as Array<[Error | null, unknown]>;
    } catch (e) {
      for (const w of batch) w.reject(e);
      return;
    }
    const index = new Map(batch.map((w, i) => [w, i]));
    [...byQueue.values()].forEach((ws, q) => {
      ws.forEach((w, j) => {
        const failed = added[q]?.[j];
        const reply = replies[index.get(w) ?? -1];
        if (failed) w.reject(failed.error);
        else if (!reply || reply[0]) w.reject(reply?.[0] ?? new Error('no reply to EXISTS'));
        else w.resolve(reply[1] === 0);
      });
    });
  };

  const pump = (): void => {
    if (inFlight || waiting.length === 0) return;
    const batch = waiting;
    waiting = [];
    inFlight = true;
    const sent =
      batch.length === 1
        ? addOne((batch[0] as Waiter).add).then(
            (batch[0] as Waiter).resolve,
            (batch[0] as Waiter).reject,
          )
        : addMany(batch);
    void sent
      .catch((e: unknown) => {
        for (const w of batch) w.reject(e); // a no-op for those already settled
      })
      .finally(() => {
        inFlight = false;
        pump();
      });
  };

  return (add) =>
    new Promise<boolean>((resolve, reject) => {
      waiting.push({ add, resolve, reject });
      pump();
    });
}
