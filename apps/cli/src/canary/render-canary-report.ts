import { table } from '../render';
import type { CanaryAnalysis } from './analyze-canary';
import { canaryExitCodes } from './decide-canary';
import { formatCanaryValue } from './format-canary-value';

/**
 * The analysis as text: the verdict and exit code, what was compared, one table row per check
 * (canary value, baseline value, threshold, verdict) and the reasons of the verdict.
 */
export function renderCanaryReport(analysis: CanaryAnalysis, prometheus: string): string {
  const rows = analysis.checks.map((c) => ({
    check: c.check,
    verdict: c.verdict.toUpperCase(),
    canary: formatCanaryValue(c.unit, c.canary),
    baseline: formatCanaryValue(c.unit, c.baseline),
    threshold: c.threshold,
  }));
  return [
    `canary analysis: ${analysis.verdict.toUpperCase()} (exit ${canaryExitCodes[analysis.verdict]})`,
    `window ${analysis.window} ending ${analysis.at.toISOString()}, Prometheus ${prometheus}`,
    `canary {${analysis.canary.selector}} against baseline {${analysis.baseline.selector}}`,
    '',
    table(rows, ['check', 'verdict', 'canary', 'baseline', 'threshold']),
    '',
    'why:',
    ...analysis.reasons.map((r) => `  - ${r}`),
  ].join('\n');
}
