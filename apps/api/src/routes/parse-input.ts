import type { z } from 'zod';
import { AppError } from '@agentry/schema';

/** Parse request input; failure → `AppError('VALIDATION')` (400) carrying the zod issues. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) {
    throw new AppError('VALIDATION', `${what} is invalid`, {
      details: { issues: result.error.issues },
    });
  }
  return result.data;
}
