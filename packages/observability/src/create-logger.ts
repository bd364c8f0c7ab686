import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger } from 'pino';
import { isColorSupported, prettyFactory } from 'pino-pretty';
import { redactPaths } from './redact-paths';

export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Bound as `component` on every line: `planner`, `executor`, `api`, `cli`, … */
  component: string;
  /** Minimum level (`trace` … `fatal`, or `silent`). @default 'info' */
  level?: string;
  /** Human-readable, colourised lines through pino-pretty instead of JSON. @default process.stdout.isTTY */
  pretty?: boolean;
  /** Where lines go (tests capture them here). @default stdout */
  destination?: DestinationStream;
  /** Extra fields bound on every line (e.g. `{ version, region }`); `component` wins over a clash. */
  base?: Record<string, unknown>;
  /**
   * Applied to every serialized line before it is written: the secret store's scrubber, so a
   * resolved secret value never reaches a log, in a message, a field or a stack.
   */
  scrub?: (line: string) => string;
}

/**
 * The one logger factory of agentry. Writes JSON lines with an ISO `time`, the level as a label
 * (`"level":"info"`), `pid`, `hostname`, `component` and `base`; secret-looking fields (see
 * {@link redactPaths}) are replaced by `[redacted]`. Scope loggers with `log.child(...)` or
 * `withContext(log, ctx)`, never by creating another logger.
 *
 * Writing is synchronous (pretty output too), so a short CLI or a crashing process does not lose
 * its last lines. Redaction works on field names: a connection string inside a message must go
 * through `redactUrl` first.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  const { scrub } = options;
  const destination =
    scrub === undefined
      ? options.destination
      : scrubbing(options.destination ?? pino.destination({ dest: 1, sync: true }), scrub);
  const stream = pretty
    ? prettyStream(destination, options.destination === undefined && isColorSupported)
    : destination;
  const logOptions = {
    level: options.level ?? 'info',
    base: { pid: process.pid, hostname: hostname(), ...options.base, component: options.component },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: [...redactPaths], censor: '[redacted]' },
  };
  return stream === undefined ? pino(logOptions) : pino(logOptions, stream);
}

/** `sink` behind `scrub`. */
function scrubbing(sink: DestinationStream, scrub: (line: string) => string): DestinationStream {
  return { write: (line: string) => sink.write(scrub(line)) };
}

/** pino-pretty's formatter in front of a synchronous sink: no worker thread, no lost lines. */
function prettyStream(
  destination: DestinationStream | undefined,
  colorize: boolean,
): DestinationStream {
  const sink = destination ?? pino.destination({ dest: 1, sync: true });
  const prettify = prettyFactory({
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,component',
    messageFormat: '[{component}] {msg}',
  });
  return { write: (line: string) => sink.write(prettify(line)) };
}
