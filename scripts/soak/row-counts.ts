import type { DB, Database } from '@agentry/db';

/** The tables a run writes to, and the audit log. */
export const countedTables = [
  'runs',
  'plans',
  'steps',
  'stepAttempts',
  'deadLetters',
  'auditLog',
  'toolCharges',
  'llmCalls',
] as const satisfies ReadonlyArray<keyof DB>;

export type RowCounts = Record<(typeof countedTables)[number], number> & {
  /** Runs by state. */
  runStates: Record<string, number>;
  /** `audit_log` rows by `target_type` (only secret reads are expected from a soak). */
  auditTargets: Record<string, number>;
};

/** `count(*)` of each counted table of the fleet's schema, runs by state, audit rows by target. */
export async function countRows(db: Database['db']): Promise<RowCounts> {
  const counts = {} as Record<(typeof countedTables)[number], number>;
  for (const table of countedTables) {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    counts[table] = Number(row.n);
  }
  const byState = await db
    .selectFrom('runs')
    .select(['state', (eb) => eb.fn.countAll<string>().as('n')])
    .groupBy('state')
    .execute();
  const byTarget = await db
    .selectFrom('auditLog')
    .select(['targetType', (eb) => eb.fn.countAll<string>().as('n')])
    .groupBy('targetType')
    .execute();
  return {
    ...counts,
    runStates: Object.fromEntries(byState.map((r) => [r.state, Number(r.n)])),
    auditTargets: Object.fromEntries(byTarget.map((r) => [r.targetType, Number(r.n)])),
  };
}
