declare const jsonBrand: unique symbol;

/**
 * A value serialised to JSON text for a `jsonb` parameter, branded with the type it encodes.
 * Both drivers pass a string through to Postgres unchanged, whereas node-postgres would turn a
 * bare JS array into a Postgres array literal, so every jsonb write goes through {@link toJson}.
 */
export type JsonText<T> = string & { readonly [jsonBrand]: T };

/**
 * Serialise a value for a `jsonb` column. Never throws: values JSON cannot encode (bigint,
 * cycles) become their `String()` form, and NUL characters, which `jsonb` rejects, become
 * U+FFFD, so bad input is kept for inspection rather than lost.
 */
export function toJson<T>(value: T): JsonText<T> {
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'string') return v.includes('\u0000') ? v.replaceAll('\u0000', '\ufffd') : v;
      if (typeof v === 'bigint') return v.toString();
      return v;
    }) as string | undefined;
    return (text ?? 'null') as JsonText<T>;
  } catch {
    return JSON.stringify(String(value).replaceAll('\u0000', '\ufffd')) as JsonText<T>;
  }
}
