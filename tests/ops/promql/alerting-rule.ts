import { parseDuration } from './duration';
import { evaluate } from './evaluate';
import { dropName, formatLabels, labelsKey } from './labels';
import { parseExpr } from './parse-expr';
import { renderTemplate } from './render-template';
import type { Labels, Series } from './types';

/** One rule of a Prometheus rule file's `groups[].rules[]` that has `alert`. */
export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** An alert of a rule at one evaluation. */
export interface Alert {
  readonly state: 'pending' | 'firing';
  readonly labels: Labels;
  readonly annotations: Readonly<Record<string, string>>;
  readonly activeAt: number;
  readonly value: number;
}

/** The rule's alerts at evaluation time `t` (ms). */
export interface RuleEvaluation {
  readonly t: number;
  readonly alerts: readonly Alert[];
}

/**
 * Evaluates `rule` every `intervalMs` from 0 to `endMs` over `series`, as Prometheus's rule
 * manager does: each element of the result is an alert with the element's labels (less the
 * metric name), the rule's labels over them and `alertname`; it is `pending` from the first
 * evaluation it appears in (`activeAt`) and `firing` once it has been active for `for`; an
 * evaluation without it resolves it. Label values and annotations are rendered as templates.
 */
export function evaluateAlertingRule(
  rule: AlertingRule,
  series: readonly Series[],
  options: { endMs: number; intervalMs?: number },
): RuleEvaluation[] {
  const expr = parseExpr(rule.expr);
  const holdMs = rule.for === undefined ? 0 : parseDuration(rule.for);
  const intervalMs = options.intervalMs ?? 60_000;
  const evaluations: RuleEvaluation[] = [];
  let active = new Map<string, number>();
  for (let t = 0; t <= options.endMs; t += intervalMs) {
    const result = evaluate(expr, series, t);
    if (result.kind !== 'vector') throw new Error(`${rule.alert}: expr is a ${result.kind}`);
    const next = new Map<string, number>();
    const alerts: Alert[] = [];
    for (const sample of result.samples) {
      const data = { labels: dropName(sample.labels), value: sample.v };
      const ruleLabels = Object.entries(rule.labels ?? {}).map(([k, v]) => [
        k,
        renderTemplate(v, data),
      ]);
      const labels = { ...data.labels, ...Object.fromEntries(ruleLabels), alertname: rule.alert };
      const key = labelsKey(labels);
      if (next.has(key)) throw new Error(`${rule.alert}: two alerts ${formatLabels(labels)}`);
      const activeAt = active.get(key) ?? t;
      next.set(key, activeAt);
      const annotations = Object.fromEntries(
        Object.entries(rule.annotations ?? {}).map(([k, v]) => [k, renderTemplate(v, data)]),
      );
      const state = t - activeAt >= holdMs ? 'firing' : 'pending';
      alerts.push({ state, labels, annotations, activeAt, value: sample.v });
    }
    active = next;
    evaluations.push({ t, alerts });
  }
  return evaluations;
}
