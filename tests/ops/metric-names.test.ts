import { describe, expect, it } from 'vitest';
import {
  loadAlertRules,
  loadDashboard,
  readRepoFile,
  withoutGrafanaVariables,
} from './load-deploy';
import { parseExpr, walkExpr, type Expr, type VectorSelector } from './promql';

interface Catalogued {
  type: string;
  labels: string[];
}

/** The catalog table of docs/metrics.md: rows starting with | `agentry_…`. */
function catalog(): Map<string, Catalogued> {
  const doc = readRepoFile('docs/metrics.md');
  const rows = [...doc.matchAll(/^\|\s*`(agentry_[a-z_]+)`\s*\|\s*(\w+)\s*\|([^|]+)\|/gm)];
  return new Map(
    rows.map(([, name = '', type = '', labels = '']) => [
      name,
      { type, labels: [...labels.matchAll(/`([a-z_]+)`/g)].map((m) => m[1] ?? '') },
    ]),
  );
}

/** Labels Prometheus attaches to every scraped series, and agentry's constant label. */
const SCRAPE_LABELS = ['job', 'instance'];
const CONSTANT_LABELS = [...SCRAPE_LABELS, 'component'];

/**
 * The labels a series of `name` can carry, or an error: names must be catalogued (histograms
 * only through `_bucket`, `_sum` or `_count`), `up`, or prom-client's default `process_*` /
 * `nodejs_*` metrics (their labels are not checked: `undefined`).
 */
function labelsOf(name: string, known: Map<string, Catalogued>): string[] | undefined | Error {
  const exact = known.get(name);
  if (exact !== undefined) {
    if (exact.type === 'histogram')
      return new Error(`${name} is a histogram: use _bucket/_sum/_count`);
    return [...exact.labels, ...CONSTANT_LABELS];
  }
  const [, base = '', suffix] = /^(.*)_(bucket|sum|count)$/.exec(name) ?? [];
  const histogram = known.get(base);
  if (histogram?.type === 'histogram') {
    return [...histogram.labels, ...CONSTANT_LABELS, ...(suffix === 'bucket' ? ['le'] : [])];
  }
  if (name === 'up') return SCRAPE_LABELS;
  if (/^(process|nodejs)_/.test(name)) return undefined;
  return new Error(`${name} is not in docs/metrics.md`);
}

/** Every problem of `expr` against the catalog: unknown metrics, and labels they do not have. */
function problems(source: string, known: Map<string, Catalogued>): string[] {
  const found: string[] = [];
  /** Labels the selectors under `e` can carry (undefined: not checked). */
  const labelsUnder = (e: Expr): Set<string> | undefined => {
    const all = new Set<string>();
    let checked = true;
    walkExpr(e, (node) => {
      if (node.type !== 'vector') return;
      const labels = labelsOf(metricName(node) ?? '', known);
      if (labels instanceof Error) return;
      if (labels === undefined) checked = false;
      for (const l of labels ?? []) all.add(l);
    });
    return checked ? all : undefined;
  };
  walkExpr(parseExpr(withoutGrafanaVariables(source)), (node) => {
    if (node.type === 'vector') {
      const name = metricName(node);
      const labels = labelsOf(name ?? '(no name)', known);
      if (labels instanceof Error) found.push(labels.message);
      else if (labels !== undefined) {
        for (const m of node.matchers) {
          if (m.name !== '__name__' && !labels.includes(m.name)) {
            found.push(`${name ?? ''} has no label ${m.name}`);
          }
        }
      }
    }
    const grouped =
      node.type === 'aggregate'
        ? { labels: node.grouping?.labels ?? [], under: labelsUnder(node.expr) }
        : node.type === 'binary' && node.matching !== undefined
          ? { labels: node.matching.labels, under: labelsUnder(node) }
          : undefined;
    for (const label of grouped?.labels ?? []) {
      if (grouped?.under !== undefined && !grouped.under.has(label)) {
        found.push(`no metric under a by/on/ignoring has the label ${label}`);
      }
    }
  });
  return found;
}

function metricName(sel: VectorSelector): string | undefined {
  return sel.matchers.find((m) => m.name === '__name__' && m.op === '=')?.value;
}

const known = catalog();
const alertExprs = loadAlertRules().map((r, i) => [`${r.alert} (rule ${String(i + 1)})`, r.expr]);
const dashboardExprs = loadDashboard().panels.flatMap((p) =>
  (p.targets ?? []).map((t) => [`${p.title} ${t.refId}`, t.expr]),
);

describe('metric names in alerts and the dashboard are those of docs/metrics.md', () => {
  it('reads the catalog', () => {
    expect(known.size).toBeGreaterThan(20);
    expect(known.get('agentry_executor_step_duration_seconds')).toEqual({
      type: 'histogram',
      labels: ['tool', 'outcome'],
    });
  });

  it('catches a renamed metric, a histogram used bare and a label that is not there', () => {
    expect(problems('rate(agentry_executor_step_total[5m])', known)).toEqual([
      'agentry_executor_step_total is not in docs/metrics.md',
    ]);
    expect(problems('agentry_executor_step_duration_seconds', known)[0]).toMatch(/histogram/);
    expect(problems('agentry_queue_jobs{status="waiting"}', known)).toEqual([
      'agentry_queue_jobs has no label status',
    ]);
    expect(problems('sum by (tenant) (agentry_queue_jobs)', known)).toEqual([
      'no metric under a by/on/ignoring has the label tenant',
    ]);
  });

  it.each(alertExprs)('alert %s', (_, expr = '') => {
    expect(problems(expr, known)).toEqual([]);
  });

  it.each(dashboardExprs)('panel %s', (_, expr = '') => {
    expect(problems(expr, known)).toEqual([]);
  });
});
