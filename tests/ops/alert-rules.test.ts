import { describe, expect, it } from 'vitest';
import { cases, END, MIN, targetsUp } from './alert-cases';
import { loadAlertRules, readRepoFile, type LoadedRule } from './load-deploy';
import {
  evaluateAlertingRule,
  parseDuration,
  parseExpr,
  parseInputSeries,
  type Alert,
  type InputSeries,
} from './promql';

const rules = loadAlertRules();

function run(alert: string, series: Record<string, string>) {
  const input = Object.entries({ ...targetsUp, ...series }).map(([s, values]): InputSeries => ({
    series: s,
    values,
  }));
  const recorded = parseInputSeries(input);
  const ruleSet = rules.filter((r) => r.alert === alert);
  const byRule = ruleSet.map((r) => evaluateAlertingRule(r, recorded, { endMs: END }));
  // Rules sharing an alert name (severity by threshold) are read as one.
  return (byRule[0] ?? []).map((evaluation, i) => ({
    t: evaluation.t,
    alerts: byRule.flatMap((r) => r[i]?.alerts ?? []),
  }));
}

const sortedLabels = (alerts: readonly Alert[]) =>
  alerts.map((a) => a.labels).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

describe('alerting rules against recorded series (deploy/prometheus/alerts.yml)', () => {
  it('has exactly one case per alert of the file', () => {
    expect([...new Set(rules.map((r) => r.alert))].sort()).toEqual(
      cases.map((c) => c.alert).sort(),
    );
  });

  for (const c of cases) {
    describe(c.alert, () => {
      const holdMs = (rule: LoadedRule | undefined) =>
        rule?.for === undefined ? 0 : parseDuration(rule.for);
      const forMs = holdMs(rules.find((r) => r.alert === c.alert));

      for (const scenario of c.fires) {
        it(`fires after its \`for\` when ${scenario.name}`, () => {
          const timeline = run(c.alert, scenario.series);
          const firstFiring = timeline.find((e) => e.alerts.some((a) => a.state === 'firing'));
          expect(firstFiring?.t).toBe(scenario.firesAt);
          const firing = firstFiring?.alerts.filter((a) => a.state === 'firing') ?? [];
          expect(sortedLabels(firing)).toEqual(
            scenario.labels.map((l) => ({ ...l, alertname: c.alert })),
          );
          for (const alert of firing) {
            // The condition held from firesAt - for, and the alert waited exactly `for`.
            expect(alert.activeAt).toBe(scenario.firesAt - forMs);
            expect(alert.annotations.summary).toBeTruthy();
            expect(alert.annotations.description).toBeTruthy();
            expect(Object.values(alert.annotations).join(' ')).not.toContain('<no value>');
          }
        });
      }

      for (const [name, series] of Object.entries(c.quiet)) {
        it(`does not fire: ${name}`, () => {
          const firing = run(c.alert, series)
            .map((e) => ({ t: e.t / MIN, alerts: e.alerts.filter((a) => a.state === 'firing') }))
            .filter((e) => e.alerts.length > 0);
          expect(firing.map((e) => ({ ...e, alerts: sortedLabels(e.alerts) }))).toEqual([]);
        });
      }
    });
  }
});

describe('the rule file', () => {
  const runbook = readRepoFile('docs/dashboards-and-alerts.md');
  /** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
  const anchors = [...runbook.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) =>
    (m[1] ?? '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-'),
  );

  it.each(rules.map((r) => [r.alert, r] as const))(
    '%s has a parseable expr, a for, a severity, a summary, a description and a runbook',
    (_, rule) => {
      expect(() => parseExpr(rule.expr)).not.toThrow();
      if (rule.for !== undefined) expect(parseDuration(rule.for)).toBeGreaterThan(0);
      expect(['warning', 'critical']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.description).toBeTruthy();
      const url = rule.annotations?.runbook_url ?? '';
      expect(url).toMatch(/^docs\/dashboards-and-alerts\.md#/);
      expect(anchors).toContain(url.split('#')[1]);
    },
  );
});
