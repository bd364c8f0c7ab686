import type { z } from 'zod';
import { AppError } from '../errors';

/**
 * Parse environment variables with a zod schema. An invalid environment becomes one
 * `AppError('VALIDATION')` whose message lists every bad variable, so `main` can print it and
 * exit 1 before opening any connection.
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
  throw new AppError('VALIDATION', `invalid configuration:\n${lines.join('\n')}`, {
    details: { issues: result.error.issues },
  });
}
