import { sql, type Kysely } from 'kysely';
import { num, type Num } from './cost-ledger-queries';
import type { DB } from './db';
import type {
  CostWindow,
  LlmPlannedIntentRow,
  LowRiskGenerateRow,
  ModelSpendRow,
  RetryCostRow,
} from './cost-report-repository';

/** Model calls inside `w`, with their run (`r`) for the tenant. */
const scopedCalls = (db: Kysely<DB>, w: CostWindow) =>
  db
    .selectFrom('llmCalls as l')
    .innerJoin('runs as r', 'r.id', 'l.runId')
    .where('l.at', '>=', w.from)
    .where('l.at', '<', w.to)
    .$if(w.tenantId !== undefined, (q) => q.where('r.tenantId', '=', w.tenantId ?? ''));

const byCostDesc = <T extends { costUsd: number }>(rows: T[]): T[] =>
  rows.sort((a, b) => b.costUsd - a.costUsd);

export async function spendByModel(db: Kysely<DB>, w: CostWindow): Promise<ModelSpendRow[]> {
  const rows = await scopedCalls(db, w)
    .select((eb) => [
      'l.provider',
      'l.model',
      eb.fn.countAll<Num>().as('calls'),
      eb.fn.countAll<Num>().filterWhere('l.priced', '=', false).as('unpricedCalls'),
      eb.fn.sum<Num>('l.inputTokens').as('inputTokens'),
      eb.fn.sum<Num>('l.outputTokens').as('outputTokens'),
      eb.fn.sum<Num>('l.costUsd').as('costUsd'),
    ])
    .groupBy(['l.provider', 'l.model'])
    .execute();
  return byCostDesc(
    rows.map((r) => ({
      provider: r.provider,
      model: r.model,
      calls: num(r.calls),
      unpricedCalls: num(r.unpricedCalls),
      inputTokens: num(r.inputTokens),
      outputTokens: num(r.outputTokens),
      costUsd: num(r.costUsd),
    })),
  );
}

export async function llmPlannedIntents(
  db: Kysely<DB>,
  w: CostWindow,
  limit: number,
): Promise<LlmPlannedIntentRow[]> {
  const planning = db
    .selectFrom('llmCalls')
    .select((eb) => ['runId', eb.fn.sum<Num>('costUsd').as('costUsd')])
    .where('purpose', '=', 'plan')
    .groupBy('runId')
    .as('c');
  const rows = await db
    .selectFrom('plans as p')
    .innerJoin('runs as r', 'r.id', 'p.runId')
    .leftJoin(planning, 'c.runId', 'p.runId')
    .select(['r.id as runId', 'r.tenantId', 'p.createdAt as plannedAt', 'c.costUsd'])
    .select(sql<string>`${sql.ref('r.intent')}->>'text'`.as('text'))
    .select(sql<string | null>`${sql.ref('r.planning')}->>'templateMatch'`.as('templateMatch'))
    .where('p.source', '=', 'llm')
    .where('p.createdAt', '>=', w.from)
    .where('p.createdAt', '<', w.to)
    .$if(w.tenantId !== undefined, (q) => q.where('r.tenantId', '=', w.tenantId ?? ''))
    .orderBy(sql`${sql.ref('c.costUsd')} desc nulls last`)
    .orderBy('p.createdAt')
    .limit(limit)
    .execute();
  return rows.map(({ costUsd, ...r }) => ({ ...r, planningUsd: num(costUsd) }));
}

export async function lowRiskGenerate(
  db: Kysely<DB>,
  w: CostWindow,
): Promise<LowRiskGenerateRow[]> {
  const rows = await scopedCalls(db, w)
    .innerJoin('steps as s', (j) =>
      j.onRef('s.runId', '=', 'l.runId').onRef('s.stepId', '=', 'l.stepId'),
    )
    .where('l.purpose', '=', 'generate')
    .where('s.risk', '=', 'low')
    .select((eb) => [
      'l.provider',
      'l.model',
      eb.fn.countAll<Num>().as('calls'),
      sql<Num>`count(distinct (${sql.ref('l.runId')}, ${sql.ref('l.stepId')}))`.as('steps'),
      eb.fn.sum<Num>('l.inputTokens').as('inputTokens'),
      eb.fn.sum<Num>('l.outputTokens').as('outputTokens'),
      eb.fn.sum<Num>('l.costUsd').as('costUsd'),
    ])
    .groupBy(['l.provider', 'l.model'])
    .execute();
  return byCostDesc(
    rows.map((r) => ({
      provider: r.provider,
      model: r.model,
      calls: num(r.calls),
      steps: num(r.steps),
      inputTokens: num(r.inputTokens),
      outputTokens: num(r.outputTokens),
      costUsd: num(r.costUsd),
    })),
  );
}

export async function retryCosts(db: Kysely<DB>, w: CostWindow): Promise<RetryCostRow[]> {
  const [invalid, failed] = await Promise.all([
    scopedCalls(db, w)
      .where('l.outcome', '=', 'invalid')
      .select((eb) => [
        'l.provider',
        'l.model',
        eb.fn.countAll<Num>().as('retries'),
        eb.fn.sum<Num>('l.costUsd').as('costUsd'),
      ])
      .groupBy(['l.provider', 'l.model'])
      .execute(),
    db
      .selectFrom('toolCharges as t')
      .innerJoin('stepAttempts as a', 'a.id', 't.attemptId')
      .innerJoin('runs as r', 'r.id', 't.runId')
      .where('a.outcome', 'in', ['failed', 'cancelled'])
      .where('t.at', '>=', w.from)
      .where('t.at', '<', w.to)
      .$if(w.tenantId !== undefined, (q) => q.where('r.tenantId', '=', w.tenantId ?? ''))
      .select((eb) => [
        't.tool',
        eb.fn.countAll<Num>().as('retries'),
        eb.fn.sum<Num>('t.costUsd').as('costUsd'),
      ])
      .groupBy('t.tool')
      .execute(),
  ]);
  return byCostDesc<RetryCostRow>([
    ...invalid.map((r) => ({
      source: 'llm' as const,
      name: r.model,
      provider: r.provider,
      retries: num(r.retries),
      costUsd: num(r.costUsd),
    })),
    ...failed.map((r) => ({
      source: 'tool' as const,
      name: r.tool,
      provider: null,
      retries: num(r.retries),
      costUsd: num(r.costUsd),
    })),
  ]);
}

export async function databaseBytes(db: Kysely<DB>): Promise<number | null> {
  try {
    const { rows } = await sql<{
      bytes: Num;
    }>`select pg_database_size(current_database()) as bytes`.execute(db);
    return rows[0] ? num(rows[0].bytes) : null;
  } catch {
    // A role without CONNECT on the database, or an engine without the function.
    return null;
  }
}
