import { parseExpr } from './parse-expr';
import type { Series, StoredSample } from './types';

/** One series of a promtool test: `series: 'name{label="value"}'`, `values: '0+1x10 _ stale'`. */
export interface InputSeries {
  readonly series: string;
  readonly values: string;
}

/** One slot of the recording: a value, `_` (no sample scraped) or `stale` (the series ended). */
export type Slot = number | '_' | 'stale';

const NUMBER = String.raw`[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN`;
const EXPANDING = new RegExp(String.raw`^(${NUMBER})(?:([+-])(${NUMBER}))?x(\d+)$`);
const PLAIN = new RegExp(`^(?:${NUMBER})$`);

/**
 * promtool's `values` notation, one slot per scrape interval:
 *
 * - `a+bxn` → `a, a+b, …, a+n·b` (n + 1 values); `a-bxn` counts down; `axn` repeats `a` n + 1 times;
 * - `_` one missing sample, `_xn` n missing samples;
 * - `stale` a staleness marker; otherwise a plain number (`Inf`, `NaN` allowed).
 */
export function expandValues(values: string): Slot[] {
  const out: Slot[] = [];
  for (const token of values
    .trim()
    .split(/\s+/)
    .filter((t) => t !== '')) {
    const missing = /^_(?:x(\d+))?$/.exec(token);
    if (missing !== null) {
      out.push(...Array<Slot>(missing[1] === undefined ? 1 : Number(missing[1])).fill('_'));
      continue;
    }
    if (token === 'stale') {
      out.push('stale');
      continue;
    }
    const expanding = EXPANDING.exec(token);
    if (expanding !== null) {
      const [, start = '', sign = '+', step = '0', times = '0'] = expanding;
      const delta = (sign === '-' ? -1 : 1) * number(step);
      for (let i = 0; i <= Number(times); i++) out.push(number(start) + i * delta);
      continue;
    }
    if (!PLAIN.test(token)) throw new Error(`not a value of promtool's notation: ${token}`);
    out.push(number(token));
  }
  return out;
}

function number(text: string): number {
  if (/^[+-]?Inf$/.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  return Number(text);
}

/**
 * The recorded series of `input`, slot `i` at `i × intervalMs`. The series text is a selector
 * with `=` matchers only (parsed with the PromQL grammar), as in promtool.
 */
export function parseInputSeries(input: readonly InputSeries[], intervalMs = 60_000): Series[] {
  return input.map(({ series, values }) => {
    const sel = parseExpr(series);
    if (sel.type !== 'vector' || sel.offsetMs !== 0 || sel.matchers.some((m) => m.op !== '=')) {
      throw new Error(`not a series: ${series}`);
    }
    const labels = Object.fromEntries(sel.matchers.map((m) => [m.name, m.value]));
    const samples: StoredSample[] = [];
    expandValues(values).forEach((slot, i) => {
      const t = i * intervalMs;
      if (slot === 'stale') samples.push({ t, v: NaN, stale: true });
      else if (slot !== '_') samples.push({ t, v: slot });
    });
    return { labels, samples };
  });
}
