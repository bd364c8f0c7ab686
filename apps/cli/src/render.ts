import type { ApprovalRecord, PlanReview } from '@agentry/schema';

/** Plain-text tables for terminals; no colours so output pipes cleanly. */
export function table(records: ReadonlyArray<object>, columns: readonly string[]): string {
  const rows = records as ReadonlyArray<Record<string, unknown>>;
  const cell = (v: unknown) =>
    v === null || v === undefined ? '-' : v instanceof Date ? v.toISOString() : String(v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((c) => c.toUpperCase())),
    ...rows.map((r) => line(columns.map((c) => cell(r[c])))),
  ].join('\n');
}

export interface RunView {
  run: {
    id: string;
    state: string;
    tenantId: string;
    spentUsd?: number;
    budgetUsd?: number | null;
    approval?: ApprovalRecord | null;
    error?: { code: string; message: string } | null;
    planning?: {
      hops: Array<{ planner: string; outcome: string; code?: string; reason?: string }>;
    } | null;
  };
  plan?: {
    summary: string;
    producedBy: string;
    hash?: string;
    body?: { steps: Array<{ id: string; input?: unknown }> };
    review?: PlanReview | null;
  } | null;
  llmCalls?: Array<{ costUsd: number; inputTokens: number; outputTokens: number }>;
  steps: Array<{
    stepId: string;
    tool: string;
    state: string;
    attempts: number;
    risk: string;
    dependsOn: string[];
    costUsd?: number;
  }>;
}

export function renderRun(view: RunView): string {
  const lines = [`run ${view.run.id}  tenant ${view.run.tenantId}  state ${view.run.state}`];
  if (view.plan) lines.push(`plan: ${view.plan.summary}  (${view.plan.producedBy})`);
  for (const hop of view.run.planning?.hops ?? []) {
    if (hop.outcome === 'skipped') {
      lines.push(`  skipped ${hop.planner}: [${hop.code ?? '-'}] ${hop.reason ?? ''}`.trimEnd());
    }
  }
  const calls = view.llmCalls ?? [];
  if (calls.length > 0) {
    const sum = (pick: (c: (typeof calls)[number]) => number) =>
      calls.reduce((total, c) => total + pick(c), 0);
    lines.push(
      `model calls: ${calls.length}  tokens ${sum((c) => c.inputTokens)} in / ${sum((c) => c.outputTokens)} out  cost $${sum((c) => c.costUsd).toFixed(4)}`,
    );
  }
  if (view.run.error) lines.push(`error: [${view.run.error.code}] ${view.run.error.message}`);
  const review = view.plan?.review;
  if (review) {
    lines.push(...renderReview(view, review));
  } else if (view.steps.length > 0) {
    lines.push(
      table(
        view.steps.map((s) => ({ ...s, dependsOn: s.dependsOn.join(',') || '-' })),
        ['stepId', 'tool', 'risk', 'dependsOn', 'state', 'attempts'],
      ),
    );
  }
  return lines.join('\n');
}

const money = (usd: number): string =>
  usd > 0 && usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
const duration = (ms: number): string =>
  ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(1)} s`;
const inputOf = (input: unknown): string => {
  const text = JSON.stringify(input ?? {});
  return text.length > 48 ? `${text.slice(0, 45)}...` : text;
};

/** A plan's review: its steps with estimates, then risk, cost, duration and the approval. */
function renderReview(view: RunView, review: PlanReview): string[] {
  const inputs = new Map((view.plan?.body?.steps ?? []).map((s) => [s.id, s.input]));
  const live = new Map(view.steps.map((s) => [s.stepId, s]));
  const rows = review.steps.map((s, i) => ({
    '#': i + 1,
    step: s.stepId,
    tool: s.tool,
    input: inputOf(inputs.get(s.stepId)),
    after: live.get(s.stepId)?.dependsOn.join(',') || '-',
    risk: s.risk,
    est: `${duration(s.estimatedMs)} (${s.durationBasis === 'observed-p50' ? `p50 of ${s.samples}` : s.durationBasis === 'default' ? 'default' : 'tool'})`,
    cost: money(s.estimatedCostUsd),
    spent: money(live.get(s.stepId)?.costUsd ?? 0),
    state: live.get(s.stepId)?.state ?? '-',
    attempts: live.get(s.stepId)?.attempts ?? 0,
  }));
  const cost = review.estimatedCost;
  const lines = [
    table(rows, [
      '#',
      'step',
      'tool',
      'input',
      'after',
      'risk',
      'est',
      'cost',
      'spent',
      'state',
      'attempts',
    ]),
    `risk: ${review.risk.level} (${review.risk.reasons.join('; ')})`,
    `estimated: ${duration(review.estimatedDurationMs)}, ${money(cost.totalUsd)} (planning ${money(cost.planningUsd)} + steps ${money(cost.stepsUsd)})${cost.unpricedModels.length > 0 ? `; unpriced: ${cost.unpricedModels.join(', ')}` : ''}`,
  ];
  if (view.run.spentUsd !== undefined) {
    const budget = view.run.budgetUsd == null ? '' : ` of a ${money(view.run.budgetUsd)} budget`;
    lines.push(`spent: ${money(view.run.spentUsd)}${budget}`);
  }
  lines.push(`plan hash: ${review.planHash.slice(0, 12)}`);
  const approval = view.run.approval;
  if (approval?.decision) {
    const d = approval.decision;
    lines.push(`${d.verdict} by ${d.actor} at ${d.at}${d.reason ? `: ${d.reason}` : ''}`);
  } else if (approval && view.run.state === 'awaiting_approval') {
    lines.push(`awaiting approval (${approval.kind}): ${approval.reasons.join('; ')}`);
    if (approval.expiresAt) lines.push(`expires at ${approval.expiresAt}`);
    const budget = approval.budget ? ' --budget <usd>' : '';
    lines.push(
      `approve with: agentry approve ${view.run.id} --plan ${review.planHash.slice(0, 12)}${budget}`,
    );
  }
  return lines;
}
