import type { Command } from 'commander';
import type { ApiClient } from '../api-client';

/** `agentry log-level <component> <level>`: change a component's log level fleet-wide, now. */
export function logLevelCommand(
  program: Command,
  api: () => ApiClient,
  env: Record<string, string | undefined>,
) {
  program
    .command('log-level')
    .description('set the log level of every planner, executor or api process (or all), now')
    .argument('<component>', 'planner | executor | api | dev | all')
    .argument('<level>', 'trace | debug | info | warn | error | fatal | silent')
    .option('--actor <name>', 'who changes it (audit log)', env.USER ?? 'cli')
    .action(async (component: string, level: string, opts: { actor: string }) => {
      const result = await api().put<{ processes: number }>('/v1/admin/log-level', {
        component,
        level,
        actor: opts.actor,
      });
      console.log(`${component}: ${level} (${result.processes} processes listening)`);
    });
}
