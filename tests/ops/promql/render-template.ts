import type { Labels } from './types';

/** Go's `%.4g`: four significant digits, trailing zeros dropped, exponent form outside 1e-4…1e4. */
export function formatG4(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return '0';
  const strip = (s: string) => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  const exponent = Math.floor(Math.log10(Math.abs(v)));
  if (exponent >= -4 && exponent < 4) return strip(v.toPrecision(4));
  const [mantissa = '', exp = '0'] = v.toExponential(3).split('e');
  const e = Number(exp);
  return `${strip(mantissa)}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

function scaleDown(v: number, suffix: string): string {
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${formatG4(v)}${prefix}${suffix}`;
}

/** Prometheus's template functions of the same names (template/template.go). */
const functions: Record<string, (v: number) => string> = {
  humanize(v) {
    if (v === 0 || !Number.isFinite(v)) return formatG4(v);
    if (Math.abs(v) < 1) return scaleDown(v, '');
    let prefix = '';
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return `${formatG4(v)}${prefix}`;
  },
  humanizePercentage: (v) => `${formatG4(v * 100)}%`,
  humanizeDuration(v) {
    if (!Number.isFinite(v)) return formatG4(v);
    if (v === 0) return '0s';
    if (Math.abs(v) < 1) return scaleDown(v, 's');
    const sign = v < 0 ? '-' : '';
    const total = Math.trunc(Math.abs(v));
    const [d, h, m, s] = [
      Math.trunc(total / 86_400),
      Math.trunc(total / 3_600) % 24,
      Math.trunc(total / 60) % 60,
      total % 60,
    ];
    if (d !== 0) return `${sign}${d}d ${h}h ${m}m ${s}s`;
    if (h !== 0) return `${sign}${h}h ${m}m ${s}s`;
    if (m !== 0) return `${sign}${m}m ${s}s`;
    return `${sign}${formatG4(Math.abs(v))}s`;
  },
};

/**
 * Renders the subset of Prometheus alert templates the rules use: `{{ $labels.name }}`,
 * `{{ $value }}` and `{{ $value | humanize }}` (also `humanizePercentage`, `humanizeDuration`).
 * A missing label renders as Go does, `<no value>`. Throws on any other action.
 */
export function renderTemplate(template: string, data: { labels: Labels; value: number }): string {
  return template.replace(/\{\{(.*?)\}\}/gs, (action: string, body: string) => {
    const label = /^\s*\$labels\.([a-zA-Z_]\w*)\s*$/.exec(body);
    if (label !== null) return data.labels[label[1] ?? ''] ?? '<no value>';
    const value = /^\s*\$value\s*(?:\|\s*(\w+)\s*)?$/.exec(body);
    if (value === null) throw new Error(`unsupported template action ${action}`);
    const fn = value[1];
    if (fn === undefined) return String(data.value);
    const format = functions[fn];
    if (format === undefined) throw new Error(`unsupported template function ${fn}`);
    return format(data.value);
  });
}
