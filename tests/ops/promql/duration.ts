const unitMs: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/**
 * A Prometheus duration (`90s`, `1h30m`, `-5m`) in milliseconds. A plain number is seconds, as in
 * Prometheus 3. Throws on anything else.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const sign = trimmed.startsWith('-') ? -1 : 1;
  const body = trimmed.replace(/^[+-]/, '');
  if (/^\d+(\.\d+)?$/.test(body)) return sign * Number(body) * 1_000;
  const parts = [...body.matchAll(/(\d+)(ms|[smhdwy])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== body) {
    throw new Error(`not a duration: ${JSON.stringify(text)}`);
  }
  return (
    sign * parts.reduce((ms, [, n = '0', unit = 's']) => ms + Number(n) * (unitMs[unit] ?? 0), 0)
  );
}
