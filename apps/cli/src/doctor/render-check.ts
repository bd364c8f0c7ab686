import type { CheckResult } from './doctor-check';

/**
 * A check as terminal lines: `PASS  <check>  <finding>`, the check name padded to `width`, and
 * for WARN and FAIL an indented `fix: …` line. Pure.
 */
export function renderCheck(result: CheckResult, width: number): string {
  const line = `${result.status.toUpperCase().padEnd(4)}  ${result.check.padEnd(width)}  ${result.finding}`;
  return result.fix !== undefined && (result.status === 'warn' || result.status === 'fail')
    ? `${line}\n      fix: ${result.fix}`
    : line;
}

/** The closing line: how many checks ended in each status. Pure. */
export function renderSummary(results: readonly CheckResult[]): string {
  const count = (status: CheckResult['status']) =>
    results.filter((r) => r.status === status).length;
  const parts = [
    `${count('fail')} failed`,
    `${count('warn')} warning(s)`,
    `${count('pass')} passed`,
    ...(count('skip') > 0 ? [`${count('skip')} skipped`] : []),
  ];
  return parts.join(', ');
}
