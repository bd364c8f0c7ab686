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
  };
  plan?: { summary: string; producedBy: string } | null;
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
