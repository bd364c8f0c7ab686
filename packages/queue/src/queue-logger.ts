/**
 * The logging surface this package needs: a structural subset of pino's `Logger`, so the app can
 * pass its pino logger (or a child of it) without this package importing a logging implementation.
 * Every call is `(fields, message)`; fields must be secret-free.
 */
export interface QueueLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /** A logger that adds `bindings` to every line, as pino's `child`. */
  child(bindings: Record<string, unknown>): QueueLogger;
}

/** A logger that drops everything; the default where a logger is optional. */
export const noopLogger: QueueLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => noopLogger,
};

/**
 * How loud a failed attempt is: a first transient failure is `info` (a retry will likely fix
 * it), later ones `warn`, and the failure that ends the job `error` — so a blip is not paged as
 * an error, and a run of failures still rises to one.
 */
export function failureLevel(attempt: number, final: boolean): 'info' | 'warn' | 'error' {
  if (final) return 'error';
  return attempt <= 1 ? 'info' : 'warn';
}
