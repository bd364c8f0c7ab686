/**
 * Writes the scenarios of alert-cases.ts as a promtool unit-test file, so that where promtool is
 * installed the same recordings can be checked by Prometheus itself:
 *
 *   pnpm -s tsx tests/ops/write-promtool-tests.ts > /tmp/agentry-alerts.test.yml
 *   promtool test rules /tmp/agentry-alerts.test.yml
 *
 * Expected alerts (labels and rendered annotations) come from this repository's evaluator: for a
 * firing scenario, none a minute before it fires and the expected ones when it fires; for a quiet
 * scenario, none at every minute.
 */
import { join } from 'node:path';
import { stringify } from 'yaml';
import { cases, END, MIN, targetsUp } from './alert-cases';
import { loadAlertRules, repoRoot } from './load-deploy';
import { evaluateAlertingRule, parseInputSeries, type Alert } from './promql';

const rules = loadAlertRules();

function firingAt(alert: string, series: Record<string, string>, minutes: readonly number[]) {
  const recorded = parseInputSeries(
    Object.entries(series).map(([s, values]) => ({ series: s, values })),
  );
  const timelines = rules
    .filter((r) => r.alert === alert)
    .map((r) => evaluateAlertingRule(r, recorded, { endMs: END }));
  return minutes.map((m) => ({
    eval_time: `${String(m)}m`,
    alertname: alert,
    exp_alerts: timelines
      .flatMap((timeline) => timeline[m]?.alerts ?? [])
      .filter((a) => a.state === 'firing')
      .map((a: Alert) => {
        const { alertname: _, ...labels } = a.labels;
        return { exp_labels: labels, exp_annotations: a.annotations };
      }),
  }));
}

const everyMinute = Array.from({ length: END / MIN + 1 }, (_, m) => m);
const tests = cases.flatMap((c) =>
  [
    ...c.fires.map((f) => ({
      name: f.name,
      series: f.series,
      at: [f.firesAt / MIN - 1, f.firesAt / MIN],
    })),
    ...Object.entries(c.quiet).map(([name, series]) => ({ name, series, at: everyMinute })),
  ].map((s) => {
    const series = { ...targetsUp, ...s.series };
    return {
      name: `${c.alert}: ${s.name}`,
      interval: '1m',
      input_series: Object.entries(series).map(([name, values]) => ({ series: name, values })),
      alert_rule_test: firingAt(c.alert, series, s.at),
    };
  }),
);

process.stdout.write(
  stringify({
    rule_files: [join(repoRoot, 'deploy/prometheus/alerts.yml')],
    evaluation_interval: '1m',
    tests,
  }),
);
