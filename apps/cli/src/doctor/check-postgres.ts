import { join } from 'node:path';
import { fail, pass, skip, type DoctorCheck } from './doctor-check';

/** Postgres answers at DATABASE_URL; reports its version. */
export const postgresCheck: DoctorCheck = {
  name: 'postgres',
  async run(ctx) {
    const opened = await ctx.database();
    if (opened === undefined) {
      const embedded = join(ctx.config.dataDir, 'pgdata');
      const finding = `DATABASE_URL is unset: processes use the embedded database under ${embedded} (one process: \`agentry dev\` only)`;
      return ctx.config.env === 'production'
        ? fail(
            finding,
            'set DATABASE_URL=postgres://user@host:5432/db (or a secret reference to it)',
          )
        : skip(`${finding}; not opened here`);
    }
    if (!opened.ok) {
      return fail(
        opened.error,
        'start Postgres, or correct DATABASE_URL (and AGENTRY_DATABASE_PASSWORD_REF if the password is a secret reference)',
      );
    }
    const database = opened.value;
    const row = await database.db
      .selectNoFrom((eb) => eb.fn<string>('current_setting', [eb.val('server_version')]).as('v'))
      .executeTakeFirstOrThrow();
    return pass(`PostgreSQL ${row.v.split(' ')[0]} at ${database.describe}`);
  },
};
