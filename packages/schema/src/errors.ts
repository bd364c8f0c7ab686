import { z } from 'zod';

/**
 * The closed set of failures agentry knows. Each code decides, once and for all, whether
 * the failure is worth another attempt (see {@link classify}).
 */
export const errorCodeList = [
  'VALIDATION',
  'PLAN_INVALID',
  'UNKNOWN_TOOL',
  'NOT_FOUND',
  'CONFLICT',
  'POLICY_DENIED',
  'BUDGET_EXCEEDED',
  'TIMEOUT',
  'CANCELLED',
  'TRANSIENT',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'TOOL_FAILED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof errorCodeList)[number];
/** Zod schema of {@link ErrorCode}. */
export const ErrorCode = z.enum(errorCodeList);

const marker = '__agentryAppError' as const;

export interface AppErrorOptions {
  cause?: unknown;
  /** Structured, secret-free facts for the operator (zod issues, the status code, ...). */
  details?: Record<string, unknown>;
  /** Overrides the code's default retryability (e.g. a tool that knows its failure is final). */
  retryable?: boolean;
}

/** The one error type agentry throws on purpose. Recognise it with {@link isAppError}. */
export class AppError extends Error {
  readonly [marker] = true;
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
    this.retryable = options.retryable ?? classify(code) === 'retry';
  }

  toJSON(): SerializedError {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      details: this.details,
    };
  }
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  details?: Record<string, unknown> | undefined;
}

/** True for an {@link AppError}, even one from another copy of this package (no `instanceof`). */
export function isAppError(value: unknown): value is AppError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<string, unknown>)[marker] === true
  );
}

/** Coerce anything thrown into an Error; every `catch` starts here. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string') return new Error(value);
  try {
    return new Error(JSON.stringify(value));
  } catch {
    return new Error(String(value));
  }
}

/** Wrap any thrown value as an AppError, keeping AppErrors as they are. */
export function toAppError(value: unknown, fallback: ErrorCode = 'INTERNAL'): AppError {
  if (isAppError(value)) return value;
  const error = toError(value);
  if (error.name === 'AbortError')
    return new AppError('CANCELLED', error.message, { cause: error });
  if (error.name === 'TimeoutError')
    return new AppError('TIMEOUT', error.message, { cause: error });
  return new AppError(fallback, error.message, { cause: error });
}

export type Disposition = 'retry' | 'fatal';

/** Decide retry vs fatal for a code. Exhaustive: a new code does not compile until placed here. */
export function classify(code: ErrorCode): Disposition {
  switch (code) {
    case 'TIMEOUT':
    case 'TRANSIENT':
    case 'RATE_LIMITED':
    case 'UNAVAILABLE':
    case 'TOOL_FAILED':
    case 'INTERNAL':
      return 'retry';
    case 'VALIDATION':
    case 'PLAN_INVALID':
    case 'UNKNOWN_TOOL':
    case 'NOT_FOUND':
    case 'CONFLICT':
    case 'POLICY_DENIED':
    case 'BUDGET_EXCEEDED':
    case 'CANCELLED':
      return 'fatal';
    default:
      return assertNever(code);
  }
}

/** Disposition of any thrown value: an AppError's own flag, else retry (an unknown fault). */
export function dispositionOf(value: unknown): Disposition {
  return isAppError(value) ? (value.retryable ? 'retry' : 'fatal') : 'retry';
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`);
}
