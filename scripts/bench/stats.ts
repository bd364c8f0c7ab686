/** Percentiles, rates and the figure table every section reports into. */

/** Nearest-rank percentile of an ascending array (`p` in 0..100); NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/** The middle value; for an even count, the mean of the two middle ones. NaN when empty. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  if (sorted.length === 0) return Number.NaN;
  return Number.isInteger(mid)
    ? ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2
    : (sorted[Math.floor(mid)] ?? Number.NaN);
}

/** A target a figure is checked against: `min` (at least) or `max` (at most). */
export type Target = { min: number } | { max: number };

/** One measured number, as printed and written to docs/benchmarks.md. */
export interface Figure {
  section: string;
  name: string;
  value: number;
  unit: string;
  /** Without a target the figure is informational. */
  target?: Target;
  /** How the value was obtained, e.g. "median of 3 rounds". */
  note?: string;
  /** What limits it, as measured (CPU of each process, round trips, the job itself). */
  limit?: string;
}

export type Verdict = 'PASS' | 'MISS' | '—';

export function verdict(f: Figure): Verdict {
  if (!f.target || !Number.isFinite(f.value)) return f.target ? 'MISS' : '—';
  return 'min' in f.target
    ? f.value >= f.target.min
      ? 'PASS'
      : 'MISS'
    : f.value <= f.target.max
      ? 'PASS'
      : 'MISS';
}

/** 1234.5 → "1,235"; 0.912 → "0.91"; 12.34 → "12.3". */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  const digits = Number.isInteger(value) || abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

export function formatValue(value: number, unit: string): string {
  return unit === '×' ? `${formatNumber(value)}×` : `${formatNumber(value)} ${unit}`;
}

export function formatTarget(f: Figure): string {
  if (!f.target) return '—';
  return 'min' in f.target
    ? `≥ ${formatValue(f.target.min, f.unit)}`
    : `≤ ${formatValue(f.target.max, f.unit)}`;
}

/** Print a section's figures as aligned lines with their target and verdict. */
export function printFigures(figures: readonly Figure[]): void {
  const width = Math.max(...figures.map((f) => f.name.length));
  for (const f of figures) {
    const target = f.target ? `  target ${formatTarget(f)}  ${verdict(f)}` : '';
    const note = f.note ? `  (${f.note})` : '';
    console.log(
      `  ${f.name.padEnd(width)}  ${formatValue(f.value, f.unit).padStart(12)}${target}${note}`,
    );
    if (f.limit) console.log(`  ${' '.repeat(width)}  limited by: ${f.limit}`);
  }
}

/** The figures as a markdown table (section, figure, value, target, verdict, how, limited by). */
export function markdownTable(figures: readonly Figure[]): string {
  const rows = figures.map(
    (f) =>
      `| ${f.section} | ${f.name} | ${formatValue(f.value, f.unit)} | ${formatTarget(f)} | ${verdict(f)} | ${f.note ?? ''} | ${f.limit ?? ''} |`,
  );
  return [
    '| section | figure | value | target | verdict | how | limited by |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
