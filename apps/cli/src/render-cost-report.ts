import { counted, formatUsd, type CostReport } from '@agentry/engine';
import { table } from './render';

const usd = formatUsd;
const section = (title: string, rows: ReadonlyArray<object>, columns: readonly string[]) =>
  ['', title, rows.length === 0 ? '(none)' : table(rows, columns)].join('\n');

function header(r: CostReport): string[] {
  const scope = r.window.tenantId === null ? 'all tenants' : `tenant ${r.window.tenantId}`;
  const t = r.totals;
  return [
    `cost report ${r.window.from} → ${r.window.to} (${r.window.days} days, ${scope})`,
    `spend ${usd(t.totalUsd)}: model calls ${usd(t.llmUsd)} (${counted(t.llmCalls, 'call')}), ` +
      `tools ${usd(t.toolUsd)} (${counted(t.toolCharges, 'charge')}), ${counted(t.runs, 'run')}`,
  ];
}

function breakdowns(r: CostReport): string[] {
  return [
    section(
      'by tenant',
      r.byTenant.map((x) => ({
        tenant: x.tenantId,
        runs: x.runs,
        models: usd(x.llmUsd),
        tools: usd(x.toolUsd),
        total: usd(x.totalUsd),
      })),
      ['tenant', 'runs', 'models', 'tools', 'total'],
    ),
    section(
      'by model',
      r.byModel.map((x) => ({
        ...x,
        tokensIn: x.inputTokens,
        tokensOut: x.outputTokens,
        unpriced: x.unpricedCalls,
        cost: usd(x.costUsd),
      })),
      ['provider', 'model', 'calls', 'unpriced', 'tokensIn', 'tokensOut', 'cost'],
    ),
    section(
      'by tool (model calls counted to the tool of their step)',
      r.byTool.map((x) => ({
        ...x,
        chargesCost: usd(x.chargesUsd),
        modelCalls: x.llmCalls,
        modelCost: usd(x.llmUsd),
        total: usd(x.totalUsd),
      })),
      ['tool', 'charges', 'chargesCost', 'modelCalls', 'modelCost', 'total'],
    ),
    section(
      'by day (UTC, days with spend)',
      r.byDay
        .filter((x) => x.totalUsd > 0)
        .map((x) => ({
          day: x.day,
          models: usd(x.llmUsd),
          tools: usd(x.toolUsd),
          total: usd(x.totalUsd),
        })),
      ['day', 'models', 'tools', 'total'],
    ),
  ];
}

function estimates(r: CostReport): string[] {
  const p = r.projection;
  const f = r.fleet;
  const compute =
    f.workers === null || f.computeMonthUsd === null
      ? 'compute unknown (workers not counted)'
      : `compute ${counted(f.workers, 'worker')} × 730 h × ${usd(f.workerHourUsd)} = ${usd(f.computeMonthUsd)}`;
  const database =
    f.databaseBytes === null || f.databaseMonthUsd === null
      ? 'database size unknown'
      : `database ${(f.databaseBytes / 2 ** 30).toFixed(3)} GiB × ${usd(f.databaseGbMonthUsd)}/GB = ${usd(f.databaseMonthUsd)}`;
  return [
    '',
    `projection ${p.month}: month to date ${usd(p.monthToDateUsd)} + ${usd(p.dailyAverageUsd)}/day ` +
      `(average of ${p.averageDays} days, ${p.averageFrom} → ${p.averageTo}) × ${p.remainingDays} days left ` +
      `= ${usd(p.projectedMonthUsd)}`,
    `fleet per month: ${compute}; ${database}; spend ${usd(f.llmMonthUsd)}; total ${usd(f.totalMonthUsd)}`,
  ];
}

function suggestions(r: CostReport): string[] {
  const lines = r.suggestions.map((s, i) => `${i + 1}. [${s.kind}] ${s.message}`);
  return [
    '',
    'suggestions',
    ...(lines.length === 0 ? ['(none)'] : lines),
    ...r.notes.map((n) => `note: ${n}`),
  ];
}

/** The cost report as plain text: header, tables, projection, fleet estimate, suggestions. */
export function renderCostReport(report: CostReport): string {
  return [
    ...header(report),
    ...breakdowns(report),
    ...estimates(report),
    ...suggestions(report),
  ].join('\n');
}
