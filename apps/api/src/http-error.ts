import { assertNever, toAppError, type AppError, type ErrorCode } from '@agentry/schema';

/** The HTTP status for each error code. Exhaustive: a new code does not compile until mapped. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'VALIDATION':
    case 'PLAN_INVALID':
    case 'UNKNOWN_TOOL':
      return 400;
    case 'BUDGET_EXCEEDED':
      return 402;
    case 'POLICY_DENIED':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
      return 409;
    case 'RATE_LIMITED':
      return 429;
    case 'CANCELLED':
      return 499;
    case 'TRANSIENT':
    case 'UNAVAILABLE':
      return 503;
    case 'TIMEOUT':
      return 504;
    case 'TOOL_FAILED':
    case 'INTERNAL':
      return 500;
    default:
      return assertNever(code);
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> | undefined };
}

/** The JSON body of an error answer. Internal errors do not leak their message or stack. */
export function errorBody(value: unknown): { status: number; body: ErrorBody; error: AppError } {
  const error = toAppError(value);
  const status = httpStatusOf(error.code);
  const message = status >= 500 && error.code === 'INTERNAL' ? 'internal error' : error.message;
  return { status, body: { error: { code: error.code, message, details: error.details } }, error };
}
