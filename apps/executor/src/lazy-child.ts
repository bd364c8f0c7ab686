import type { QueueLogger } from '@agentry/queue';

type LogArgs = [obj: object, msg?: string];

/**
 * `parent().child(bindings)`, made on the first line logged through it. Most steps log nothing
 * (a line at `info` ends a run, warnings are rare), and a pino child costs its bindings'
 * serialisation; the job's own child logger (`ctx.log`) is made lazily for the same reason.
 */
export function lazyChild(
  parent: () => QueueLogger,
  bindings: Record<string, unknown>,
): QueueLogger {
  let made: QueueLogger | undefined;
  const log = (): QueueLogger => (made ??= parent().child(bindings));
  return {
    debug: (...a: LogArgs) => log().debug(...a),
    info: (...a: LogArgs) => log().info(...a),
    warn: (...a: LogArgs) => log().warn(...a),
    error: (...a: LogArgs) => log().error(...a),
    child: (more) => lazyChild(log, more),
  };
}
