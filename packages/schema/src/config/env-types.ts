import { z } from 'zod';

/** Variables that are unset or set to the empty string count as unset. */
const blankAsUndefined = (v: unknown) => (v === '' ? undefined : v);

/** Treat an empty variable as unset, then apply `schema` (give it a `.default()` or `.optional()`). */
export const env = <T extends z.ZodType>(schema: T) => z.preprocess(blankAsUndefined, schema);

export const envString = () => env(z.string().optional());

export const envInt = (fallback: number, bounds: { min?: number; max?: number } = {}) =>
  z.preprocess(
    blankAsUndefined,
    z.coerce
      .number()
      .int()
      .min(bounds.min ?? 0)
      .max(bounds.max ?? Number.MAX_SAFE_INTEGER)
      .default(fallback),
  );

export const envBool = (fallback: boolean) =>
  z.preprocess(
    blankAsUndefined,
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  );

export const envList = () =>
  z.preprocess(
    blankAsUndefined,
    z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0),
      ),
  );
