import { AppError } from '@agentry/schema';
import type { SecretRef } from './secret-ref';

/**
 * The value a reference asks for from a secret's text: the text itself, or with `#key` the value of
 * that key of a JSON object (a string, or a number/boolean as its JSON text). Throws `NOT_FOUND`
 * for a missing key and `VALIDATION` when the text is not a JSON object — never echoing the text.
 */
export function selectKey(ref: SecretRef, text: string): string {
  if (ref.key === undefined) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AppError(
      'VALIDATION',
      `${ref.raw}: the secret is not JSON, so #${ref.key} cannot be selected`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AppError('VALIDATION', `${ref.raw}: the secret is not a JSON object`);
  }
  const value = (parsed as Record<string, unknown>)[ref.key];
  if (value === undefined || value === null) {
    throw new AppError('NOT_FOUND', `${ref.raw}: the secret has no key "${ref.key}"`, {
      retryable: false,
    });
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new AppError('VALIDATION', `${ref.raw}: key "${ref.key}" is not a string`);
}

/** `text` (a JSON object) with `key` set to `value`; a new object when `text` is empty. */
export function replaceKey(ref: SecretRef, text: string | undefined, value: string): string {
  if (ref.key === undefined) return value;
  let current: Record<string, unknown> = {};
  if (text !== undefined && text !== '') {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new AppError('VALIDATION', `${ref.raw}: the secret is not a JSON object`);
    }
    current = parsed as Record<string, unknown>;
  }
  return JSON.stringify({ ...current, [ref.key]: value });
}
