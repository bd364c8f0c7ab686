declare const jsonBrand: unique symbol;

/**
 * A value serialised to JSON text for a `jsonb` parameter, branded with the type it encodes.
 * Both drivers pass a string through to Postgres unchanged, whereas node-postgres would turn a
 * bare JS array into a Postgres array literal, so every jsonb write goes through {@link toJson}.
 */
export type JsonText<T> = string & { readonly [jsonBrand]: T };

/**
 * Serialise a value for a `jsonb` column. Never throws: values JSON cannot encode (bigint,
 * cycles) become their `String()` form, and NUL characters and unpaired surrogates, which `jsonb`
 * rejects (in values and in keys), become U+FFFD, so bad input is kept for inspection rather than
 * lost.
 */
export function toJson<T>(value: T): JsonText<T> {
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'string') return storable(v);
      if (typeof v === 'bigint') return v.toString();
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) return withStorableKeys(v);
      return v;
    }) as string | undefined;
    return (text ?? 'null') as JsonText<T>;
  } catch {
    return JSON.stringify(storable(String(value))) as JsonText<T>;
  }
}

// NUL is the point of this pattern (jsonb refuses it).
// eslint-disable-next-line no-control-regex
const unstorable = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `text` with NUL and unpaired surrogates (both refused by `jsonb`) replaced by U+FFFD. */
function storable(text: string): string {
  unstorable.lastIndex = 0;
  return unstorable.test(text) ? text.replace(unstorable, '\ufffd') : text;
}

/** `object` itself, or a copy whose keys are {@link storable} when one of them is not. */
function withStorableKeys(object: object): object {
  const keys = Object.keys(object);
  if (keys.every((k) => storable(k) === k)) return object;
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [storable(k), v]));
}
