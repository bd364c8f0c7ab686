import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { DB } from './db';
import type {
  CostWindow,
  DaySpendRow,
  SpendTotals,
  TenantSpendRow,
  ToolSpendRow,
} from './cost-report-repository';

/** How Postgres and PGlite return a count (int8) or a sum (numeric, null over no rows). */
export type Num = string | number | bigint;
export const num = (value: Num | null | undefined): number => Number(value ?? 0);

/**
 * Every spend ledger entry — model calls (`llm`) and tool charges (`tool`) — with its run's
 * tenant and the tool of its step (a planning call has none).
 */
function ledger(db: Kysely<DB>) {
  const calls = db
    .selectFrom('llmCalls as e')
    .innerJoin('runs as r', 'r.id', 'e.runId')
    .leftJoin('steps as s', (j) =>
      j.onRef('s.runId', '=', 'e.runId').onRef('s.stepId', '=', 'e.stepId'),
    )
    .select(['r.tenantId', 'e.runId', 'e.at', 'e.costUsd', 's.tool'])
    .select(sql<'llm' | 'tool'>`'llm'`.as('kind'));
  const charges = db
    .selectFrom('toolCharges as e')
    .innerJoin('runs as r', 'r.id', 'e.runId')
    .select(['r.tenantId', 'e.runId', 'e.at', 'e.costUsd', 'e.tool'])
    .select(sql<'llm' | 'tool'>`'tool'`.as('kind'));
  return calls.unionAll(charges);
}

type LedgerEntry =
  ReturnType<typeof ledger> extends { execute(): Promise<Array<infer R>> } ? R : never;

/** The ledger entries inside `w` (Postgres pushes the filters into both halves of the union). */
const scoped = (db: Kysely<DB>, w: CostWindow) =>
  db
    .selectFrom(ledger(db).as('x'))
    .where('x.at', '>=', w.from)
    .where('x.at', '<', w.to)
    .$if(w.tenantId !== undefined, (q) => q.where('x.tenantId', '=', w.tenantId ?? ''));

const spendColumns = (eb: ExpressionBuilder<{ x: LedgerEntry }, 'x'>) => [
  eb.fn.sum<Num | null>('x.costUsd').filterWhere('x.kind', '=', 'llm').as('llmUsd'),
  eb.fn.sum<Num | null>('x.costUsd').filterWhere('x.kind', '=', 'tool').as('toolUsd'),
  eb.fn.count<Num>('x.runId').filterWhere('x.kind', '=', 'llm').as('llmCalls'),
  eb.fn.count<Num>('x.runId').filterWhere('x.kind', '=', 'tool').as('toolCharges'),
  eb.fn.count<Num>('x.runId').distinct().as('runs'),
];

interface SpendColumns {
  llmUsd: Num | null;
  toolUsd: Num | null;
  llmCalls: Num;
  toolCharges: Num;
  runs: Num;
}

const toTotals = (r: SpendColumns): SpendTotals => ({
  llmUsd: num(r.llmUsd),
  toolUsd: num(r.toolUsd),
  totalUsd: num(r.llmUsd) + num(r.toolUsd),
  llmCalls: num(r.llmCalls),
  toolCharges: num(r.toolCharges),
  runs: num(r.runs),
});

export async function spendTotals(db: Kysely<DB>, w: CostWindow): Promise<SpendTotals> {
  return toTotals(await scoped(db, w).select(spendColumns).executeTakeFirstOrThrow());
}

export async function spendByTenant(db: Kysely<DB>, w: CostWindow): Promise<TenantSpendRow[]> {
  const rows = await scoped(db, w)
    .select('x.tenantId')
    .select(spendColumns)
    .groupBy('x.tenantId')
    .execute();
  return rows
    .map((r) => ({ tenantId: r.tenantId, ...toTotals(r) }))
    .sort((a, b) => b.totalUsd - a.totalUsd);
}

export async function spendByTool(db: Kysely<DB>, w: CostWindow): Promise<ToolSpendRow[]> {
  const rows = await scoped(db, w)
    .where('x.tool', 'is not', null)
    .select('x.tool')
    .select(spendColumns)
    .groupBy('x.tool')
    .execute();
  return rows
    .map((r) => ({
      tool: r.tool ?? '',
      charges: num(r.toolCharges),
      chargesUsd: num(r.toolUsd),
      llmCalls: num(r.llmCalls),
      llmUsd: num(r.llmUsd),
      totalUsd: num(r.toolUsd) + num(r.llmUsd),
    }))
    .sort((a, b) => b.totalUsd - a.totalUsd);
}

export async function spendByDay(db: Kysely<DB>, w: CostWindow): Promise<DaySpendRow[]> {
  const day = sql<string>`to_char(${sql.ref('x.at')} at time zone 'UTC', 'YYYY-MM-DD')`;
  const rows = await scoped(db, w)
    .select(day.as('day'))
    .select(spendColumns)
    .groupBy(day)
    .orderBy(day)
    .execute();
  return rows.map((r) => {
    const { llmUsd, toolUsd, totalUsd } = toTotals(r);
    return { day: r.day, llmUsd, toolUsd, totalUsd };
  });
}
