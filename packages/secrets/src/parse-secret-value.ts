import { AppError } from '@agentry/schema';
import type { z } from 'zod';

/**
 * `value` parsed with `schema`. A value the schema refuses as text that is a JSON object or array
 * is parsed as JSON and tried again (AWS secrets are often JSON documents). Throws
 * `AppError('VALIDATION')` naming `ref` and the failing paths and issue codes — never zod's
 * messages, which may quote the input.
 */
export function parseSecretValue<T>(ref: string, value: string, schema: z.ZodType<T>): T {
  let result = schema.safeParse(value);
  if (!result.success && /^\s*[[{]/.test(value)) {
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      json = undefined;
    }
    if (json !== undefined) result = schema.safeParse(json);
  }
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    code: issue.code,
  }));
  const summary = issues.map((i) => `${i.path === '' ? '(value)' : i.path}: ${i.code}`).join(', ');
  throw new AppError(
    'VALIDATION',
    `${ref}: the secret does not have the expected shape (${summary})`,
    {
      details: { ref, issues },
    },
  );
}
