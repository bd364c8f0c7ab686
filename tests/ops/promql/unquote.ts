const simpleEscapes: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
};

/** The value of a PromQL string literal: `"…"` and `'…'` with Go escapes, `` `…` `` raw. */
export function unquote(literal: string): string {
  const quote = literal[0];
  const body = literal.slice(1, -1);
  if (quote === '`') return body;
  return body.replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g,
    (_, esc: string) => {
      if (/^[xuU]/.test(esc)) return String.fromCodePoint(parseInt(esc.slice(1), 16));
      if (/^[0-7]{3}$/.test(esc)) return String.fromCodePoint(parseInt(esc, 8));
      const plain = simpleEscapes[esc];
      if (plain === undefined) throw new Error(`unknown escape \\${esc} in ${literal}`);
      return plain;
    },
  );
}
