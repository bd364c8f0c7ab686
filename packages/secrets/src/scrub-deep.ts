import { AppError, isAppError } from '@agentry/schema';

/** Nesting followed before giving up; what lies deeper is replaced, not copied unchecked. */
const maxDepth = 32;
const tooDeep = '[too deep to scrub]';
/** Own properties of an Error (and of an AppError) that {@link scrubDeepWith} copies by hand. */
const errorFields = new Set(['name', 'message', 'stack', 'cause', 'errors']);
const appErrorFields = new Set([
  ...errorFields,
  'code',
  'retryable',
  'details',
  '__agentryAppError',
]);

/**
 * A copy of `value` with `scrub` applied to every string in it: strings, arrays, plain objects
 * (keys too) and Errors. An Error becomes a new `Error` with the same `name`, scrubbed `message`
 * and `stack`, its `cause` chain (and an AggregateError's `errors`) scrubbed, and its other own
 * enumerable fields scrubbed; an `AppError` becomes a new `AppError` with the same `code`,
 * `retryable` and scrubbed `details`. Other objects (Date, Map, class instances) are returned as
 * they are. Cycles are kept as cycles. Never throws.
 */
export function scrubDeepWith<T>(scrub: (text: string) => string, value: T): T {
  const copies = new Map<object, unknown>();

  const visit = (item: unknown, depth: number): unknown => {
    if (typeof item === 'string') return scrub(item);
    if (typeof item !== 'object' || item === null) return item;
    if (copies.has(item)) return copies.get(item);
    if (depth > maxDepth) return tooDeep;
    if (item instanceof Error || isAppError(item)) return copyError(item, depth);
    if (Array.isArray(item)) {
      const out: unknown[] = [];
      copies.set(item, out);
      for (const element of item) out.push(visit(element, depth + 1));
      return out;
    }
    const proto: unknown = Object.getPrototypeOf(item);
    if (proto !== Object.prototype && proto !== null) return item;
    const out: Record<string, unknown> = {};
    copies.set(item, out);
    for (const [key, field] of Object.entries(item)) out[scrub(key)] = visit(field, depth + 1);
    return out;
  };

  const copyError = (error: Error, depth: number): Error => {
    const message = scrub(String(error.message));
    const copy = isAppError(error)
      ? new AppError(error.code, message, {
          retryable: error.retryable,
          details: visit(error.details, depth + 1) as Record<string, unknown> | undefined,
        })
      : new Error(message);
    copies.set(error, copy);
    copy.name = error.name;
    if (typeof error.stack === 'string') copy.stack = scrub(error.stack);
    else delete copy.stack;
    const source = error as Error & { errors?: unknown };
    if (Object.hasOwn(error, 'cause')) hidden(copy, 'cause', visit(error.cause, depth + 1));
    if (Array.isArray(source.errors)) hidden(copy, 'errors', visit(source.errors, depth + 1));
    const own = isAppError(error) ? appErrorFields : errorFields;
    const fields = copy as unknown as Record<string, unknown>;
    for (const [key, field] of Object.entries(error)) {
      if (!own.has(key)) fields[key] = visit(field, depth + 1);
    }
    return copy;
  };

  return visit(value, 0) as T;
}

/** Define a non-enumerable field, as the engine does for `cause` and `errors`. */
function hidden(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, configurable: true });
}
