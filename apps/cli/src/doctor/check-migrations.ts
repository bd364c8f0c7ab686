import { migrationStatus } from '@agentry/db';
import { fail, pass, skip, type DoctorCheck } from './doctor-check';

/** Every migration this CLI knows is applied. */
export const migrationsCheck: DoctorCheck = {
  name: 'postgres.migrations',
  async run(ctx) {
    const opened = await ctx.database();
    if (opened === undefined) return skip('not checked: no DATABASE_URL');
    if (!opened.ok) return skip('not checked: Postgres is unreachable');
    const status = await migrationStatus(opened.value.db);
    const pending = status.filter((m) => m.executedAt === null);
    if (pending.length > 0) {
      const schema = ctx.config.databaseSchema;
      return fail(
        `${pending.length} of ${status.length} migrations pending: ${pending.map((m) => m.name).join(', ')}`,
        `agentry migrate up (with this DATABASE_URL${schema === undefined ? '' : ` and AGENTRY_DB_SCHEMA=${schema}`}); workers never migrate on boot`,
      );
    }
    return pass(`all ${status.length} migrations applied (latest ${status.at(-1)?.name ?? '-'})`);
  },
};
