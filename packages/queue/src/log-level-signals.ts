import { AppError, LogLevelChange, type LogLevelName } from '@agentry/schema';
import type { RedisClient } from './redis-client';
import { logConnectionErrors } from './log-connection-errors';
import { noopLogger, type QueueLogger } from './queue-logger';

const channel = (prefix: string): string => `${prefix}:log-level`;

/** Tell every process of the fleet; answers how many processes listen (Redis PUBLISH). */
export async function announceLogLevel(
  connection: RedisClient,
  prefix: string,
  change: LogLevelChange,
  timeoutMs = 2_000,
): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new AppError('UNAVAILABLE', 'announcing the log level timed out')),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      connection.publish(channel(prefix), JSON.stringify(LogLevelChange.parse(change))),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Apply log-level changes announced for `component` (or `all`) on a connection of its own
 * (`subscriber`, owned from here on). A malformed message is logged and ignored. `close`
 * unsubscribes and disconnects.
 */
export function listenForLogLevels(
  subscriber: RedisClient,
  prefix: string,
  component: string,
  apply: (level: LogLevelName) => void,
  log: QueueLogger = noopLogger,
): { close(): Promise<void> } {
  const name = channel(prefix);
  logConnectionErrors(subscriber, log, { role: 'log-level listener' });
  subscriber.on('message', (from: string, message: string) => {
    if (from !== name) return;
    let change: LogLevelChange;
    try {
      change = LogLevelChange.parse(JSON.parse(message));
    } catch {
      log.warn({ channel: name }, 'ignored a malformed log-level message');
      return;
    }
    if (change.component !== component && change.component !== 'all') return;
    apply(change.level);
    log.info({ level: change.level, for: change.component }, 'log level changed');
  });
  const subscribe = (): void =>
    void subscriber.subscribe(name).catch((err: unknown) => {
      log.warn({ err }, 'cannot listen for log-level changes');
    });
  if (subscriber.status === 'ready') subscribe();
  else subscriber.once('ready', subscribe);
  if (subscriber.status === 'wait') subscriber.connect().catch(() => undefined);
  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        await subscriber.unsubscribe(name).catch(() => undefined);
        subscriber.disconnect();
      })()),
  };
}
