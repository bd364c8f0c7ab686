import { createDeadLetterRepository } from '@agentry/db';
import { pass, skip, warn, type DoctorCheck } from './doctor-check';

/** Postgres' "undefined_table": the migrations have not created `dead_letters` yet. */
const undefinedTable = '42P01';

/** Dead letters nobody has replayed or purged yet, by source queue. */
export const deadLettersCheck: DoctorCheck = {
  name: 'dead-letters',
  async run(ctx) {
    const opened = await ctx.database();
    if (opened === undefined) return skip('not checked: no DATABASE_URL');
    if (!opened.ok) return skip('not checked: Postgres is unreachable');
    let bySource: Map<string, number>;
    try {
      const repo = createDeadLetterRepository(opened.value.db, () => new Date(ctx.now()));
      bySource = await repo.unreplayedBySource();
    } catch (e) {
      if ((e as { code?: unknown }).code === undefinedTable) {
        return skip('not checked: no dead_letters table (migrations pending)');
      }
      throw e;
    }
    const total = [...bySource.values()].reduce((sum, n) => sum + n, 0);
    if (total === 0) return pass('no unreplayed dead letters');
    const parts = [...bySource]
      .sort((a, b) => b[1] - a[1])
      .map(([queue, n]) => `${queue} ${n}`)
      .join(', ');
    return warn(
      `${total} unreplayed (${parts})`,
      'agentry dlq shows them grouped by cause; then agentry dlq replay <id>, or agentry dlq purge',
    );
  },
};
