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
    error?: { code: string; message: string } | null;
    planning?: {
      hops: Array<{ planner: string; outcome: string; code?: string; reason?: string }>;
    } | null;
  };
  plan?: { summary: string; producedBy: string } | null;
  llmCalls?: Array<{ costUsd: number; inputTokens: number; outputTokens: number }>;
  steps: Array<{
    stepId: string;
    tool: string;
    state: string;
    attempts: number;
    risk: string;
    dependsOn: string[];
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
  if (view.steps.length > 0) {
    lines.push(
      table(
        view.steps.map((s) => ({ ...s, dependsOn: s.dependsOn.join(',') || '-' })),
        ['stepId', 'tool', 'risk', 'dependsOn', 'state', 'attempts'],
      ),
    );
  }
  return lines.join('\n');
}
