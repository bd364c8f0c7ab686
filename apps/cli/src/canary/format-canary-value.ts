import type { CanaryCheckUnit } from './canary-check';

/**
 * A check's value as people read it: `5.00%`, `975 ms`, `1200`, `-` for no data. Counts that
 * come from `increase()` may be fractional (extrapolation): steps are rounded, other counts keep
 * one decimal (so a 0.4 that fails a "none" rule does not print as 0).
 */
export function formatCanaryValue(unit: CanaryCheckUnit, value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  switch (unit) {
    case 'ratio':
      return `${(value * 100).toFixed(2)}%`;
    case 'ms':
      return `${Math.round(value)} ms`;
    case 'steps':
      return String(Math.round(value));
    case 'count':
      return Number.isInteger(value) ? String(value) : value.toFixed(1);
  }
}

/** A difference of two ratios in percentage points: `0.50 pp`. */
export function formatPoints(ratio: number): string {
  return `${(ratio * 100).toFixed(2)} pp`;
}
