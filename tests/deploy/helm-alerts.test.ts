import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { chartDir, find, operatorApis, renderChart, repoRoot } from './support-helm';
import { typed } from './support-helm-models';

/** The rule file Prometheus (docker compose) loads, and the chart's copy of it. */
const source = readFileSync(join(repoRoot, 'deploy/prometheus/alerts.yml'), 'utf8');
const copy = readFileSync(join(chartDir, 'files/alerts.yml'), 'utf8');

interface RuleGroups {
  groups: {
    name: string;
    rules: {
      alert: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    }[];
  }[];
}

async function renderedGroups(set: Record<string, string | boolean> = {}) {
  const manifests = await renderChart({
    apiVersions: operatorApis,
    set: { 'metrics.prometheusRule.enabled': true, ...set },
  });
  return typed(
    find(manifests, 'PrometheusRule', 'rel-agentry'),
    'monitoring.coreos.com/v1/PrometheusRule',
  ).spec.groups as RuleGroups['groups'];
}

describe('the PrometheusRule of the chart', () => {
  it('ships files/alerts.yml identical to deploy/prometheus/alerts.yml (cp it after a change)', () => {
    // A chart cannot read outside its directory, so it carries a copy; this keeps them in step.
    expect(copy === source, 'cp deploy/prometheus/alerts.yml helm/agentry/files/alerts.yml').toBe(
      true,
    );
  });

  it('holds exactly the groups of deploy/prometheus/alerts.yml, templates untouched', async () => {
    const expected = (parse(source) as RuleGroups).groups;
    const groups = await renderedGroups();
    expect(groups).toEqual(expected);
    // Helm renders the file as data: Prometheus's own templates reach the operator as written.
    expect(JSON.stringify(groups)).toContain('{{ $labels.queue }}');
  });

  it('can point runbooks at a URL and add routing labels without touching the rules', async () => {
    const expected = (parse(source) as RuleGroups).groups;
    const groups = await renderedGroups({
      'metrics.prometheusRule.runbookBaseUrl': 'https://git.example.com/agentry/blob/main/',
      'metrics.prometheusRule.additionalRuleLabels.team': 'platform',
    });
    const rules = groups.flatMap((g) => g.rules);
    const original = expected.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(original.map((r) => r.alert));
    rules.forEach((rule, i) => {
      const before = original[i]!;
      expect(rule.annotations?.runbook_url).toBe(
        `https://git.example.com/agentry/blob/main/${before.annotations?.runbook_url}`,
      );
      expect(rule.labels).toEqual({ ...before.labels, team: 'platform' });
    });
  });
});
