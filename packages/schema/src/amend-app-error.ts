import { AppError } from './errors';

/** What {@link amendAppError} changes; anything left out is kept. */
export interface AppErrorAmendment {
  message?: string;
  retryable?: boolean;
  /** Merged over the error's own details. */
  details?: Record<string, unknown>;
}

/** A copy of `error` with `amendment` applied: same code and cause. Never throws. */
export function amendAppError(error: AppError, amendment: AppErrorAmendment): AppError {
  return new AppError(error.code, amendment.message ?? error.message, {
    cause: error.cause,
    retryable: amendment.retryable ?? error.retryable,
    details: { ...error.details, ...amendment.details },
  });
}
