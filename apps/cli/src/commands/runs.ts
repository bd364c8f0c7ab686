import type { Command } from 'commander';
import type { ApiClient } from '../api-client';
import { renderRun, table, type RunView } from '../render';
import { watchRun } from './watch-run';

export function runsCommands(
  program: Command,
  api: () => ApiClient,
  env: Record<string, string | undefined>,
) {
  const runs = program.command('runs').description('list and inspect runs');
  runs
    .command('list')
    .option('-t, --tenant <id>', 'only this tenant')
    .option('-s, --state <state>', 'only runs in this state')
    .option('-n, --limit <n>', 'how many', '20')
    .action(async (opts: { tenant?: string; state?: string; limit: string }) => {
      const q = new URLSearchParams({ limit: opts.limit });
      if (opts.tenant) q.set('tenantId', opts.tenant);
      if (opts.state) q.set('state', opts.state);
      const { runs: rows } = await api().get<{ runs: Array<Record<string, unknown>> }>(
        `/v1/runs?${q}`,
      );
      console.log(table(rows, ['id', 'tenantId', 'state', 'createdAt', 'finishedAt']));
    });
  runs
    .command('show')
    .argument('<runId>')
    .option('--json', 'print the raw JSON')
    .action(async (runId: string, opts: { json?: boolean }) => {
      const view = await api().get<RunView>(`/v1/runs/${runId}`);
      console.log(opts.json ? JSON.stringify(view, null, 2) : renderRun(view));
    });
  runs
    .command('watch')
    .argument('<runId>')
    .action(async (runId: string) => {
      await watchRun(api(), runId);
    });

  for (const verb of ['approve', 'reject', 'cancel'] as const) {
    program
      .command(verb)
      .description(`${verb} a run`)
      .argument('<runId>')
      .option('-r, --reason <text>', 'why (recorded in the audit log)')
      .option('--actor <name>', 'who decides', env.USER ?? 'cli')
      .action(async (runId: string, opts: { reason?: string; actor: string }) => {
        const result = await api().post<{ state: string }>(`/v1/runs/${runId}/${verb}`, {
          actor: opts.actor,
          ...(opts.reason ? { reason: opts.reason } : {}),
        });
        console.log(`run ${runId}: ${result.state}`);
      });
  }
}
