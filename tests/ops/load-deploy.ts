import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { AlertingRule } from './promql';

/** The repository root. */
export const repoRoot = join(import.meta.dirname, '../..');

/** A file of the repository, as text. */
export function readRepoFile(path: string): string {
  return readFileSync(join(repoRoot, path), 'utf8');
}

/** A YAML file of the repository, parsed (shape unchecked). */
export function readYaml(path: string): unknown {
  return parse(readRepoFile(path));
}

/** One rule of deploy/prometheus/alerts.yml with the group it is in. */
export interface LoadedRule extends AlertingRule {
  readonly group: string;
}

/** Every alerting rule of deploy/prometheus/alerts.yml, in file order. */
export function loadAlertRules(): LoadedRule[] {
  const file = readYaml('deploy/prometheus/alerts.yml') as {
    groups: { name: string; rules: AlertingRule[] }[];
  };
  return file.groups.flatMap((g) => g.rules.map((r) => ({ ...r, group: g.name })));
}

/** A panel of the dashboard JSON (rows and queries included). */
export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { expr: string; refId: string; legendFormat?: string; datasource?: { uid: string } }[];
}

/** The parts of a Grafana dashboard the tests read. */
export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: DashboardPanel[];
}

/** deploy/grafana/dashboards/agentry.json. */
export function loadDashboard(): Dashboard {
  return JSON.parse(readRepoFile('deploy/grafana/dashboards/agentry.json')) as Dashboard;
}

/** Grafana's interval variables, replaced by a duration so the query parses as PromQL. */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m');
}
