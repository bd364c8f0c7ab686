import { AppError } from '@agentry/schema';
import type { RedisClient } from './redis-client';
import { logConnectionErrors } from './log-connection-errors';
import { noopLogger, type QueueLogger } from './queue-logger';

/** The channel cancellations are announced on, under the fleet's key prefix. */
export const cancelChannel = (prefix: string): string => `${prefix}:run-cancelled`;

/** Tell every executor that a run was cancelled (best effort: one PUBLISH, bounded). */
export async function announceCancel(
  connection: RedisClient,
  prefix: string,
  runId: string,
  timeoutMs = 2_000,
): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new AppError('UNAVAILABLE', 'announcing the cancel timed out')),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([connection.publish(cancelChannel(prefix), runId), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Per run, a signal that aborts when the run is cancelled. */
export interface RunCancellation {
  /**
   * A signal for one step of `runId`, aborted (reason: `CANCELLED` AppError with
   * `details.runCancelled`) when a cancel of the run is announced. Call `release` when the step
   * ends.
   */
  watch(runId: string): { signal: AbortSignal; release(): void };
  /** Unsubscribe and disconnect. Safe twice. */
  close(): Promise<void>;
}

/**
 * Listen for cancellations on a connection of its own (a subscribed connection can do nothing
 * else): `subscriber` is a duplicate the caller made and this object owns. Messages missed while
 * disconnected are lost; a step then ends at its timeout and its run stays cancelled.
 */
export function listenForCancels(
  subscriber: RedisClient,
  prefix: string,
  log: QueueLogger = noopLogger,
): RunCancellation {
  const watching = new Map<string, Set<AbortController>>();
  const channel = cancelChannel(prefix);
  logConnectionErrors(subscriber, log, { role: 'cancel listener' });
  subscriber.on('message', (from: string, runId: string) => {
    if (from !== channel) return;
    const controllers = watching.get(runId);
    if (!controllers) return;
    log.info({ runId, steps: controllers.size }, 'run cancelled: aborting its steps here');
    for (const c of controllers) {
      c.abort(
        new AppError('CANCELLED', `run ${runId} was cancelled`, {
          details: { runCancelled: true },
        }),
      );
    }
  });
  // Subscribed once connected; ioredis subscribes again by itself after a reconnect.
  const subscribe = (): void =>
    void subscriber.subscribe(channel).catch((e: unknown) => {
      log.warn(
        { err: e },
        'cannot listen for run cancellations; running steps end at their timeout',
      );
    });
  if (subscriber.status === 'ready') subscribe();
  else subscriber.once('ready', subscribe);
  if (subscriber.status === 'wait') subscriber.connect().catch(() => undefined);
  let closing: Promise<void> | undefined;
  return {
    watch(runId) {
      const controller = new AbortController();
      const set = watching.get(runId) ?? new Set();
      set.add(controller);
      watching.set(runId, set);
      return {
        signal: controller.signal,
        release() {
          set.delete(controller);
          if (set.size === 0 && watching.get(runId) === set) watching.delete(runId);
        },
      };
    },
    close: () =>
      (closing ??= (async () => {
        await subscriber.unsubscribe(channel).catch(() => undefined);
        subscriber.disconnect();
      })()),
  };
}
