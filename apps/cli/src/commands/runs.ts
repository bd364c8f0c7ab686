import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { AppError } from '@agentry/schema';
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
    .option('--json', 'print the runs as JSON (for scripts)')
    .action(async (opts: { tenant?: string; state?: string; limit: string; json?: boolean }) => {
      const q = new URLSearchParams({ limit: opts.limit });
      if (opts.tenant) q.set('tenantId', opts.tenant);
      if (opts.state) q.set('state', opts.state);
      const { runs: rows } = await api().get<{ runs: Array<Record<string, unknown>> }>(
        `/v1/runs?${q}`,
      );
      if (opts.json) console.log(JSON.stringify(rows));
      else console.log(table(rows, ['id', 'tenantId', 'state', 'createdAt', 'finishedAt']));
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
    .command('amend')
    .description('replace the plan of a run waiting for approval (it then needs its own approval)')
    .argument('<runId>')
    .requiredOption('-f, --file <path>', 'JSON file with { "summary": ..., "steps": [...] }')
    .option('-r, --reason <text>', 'why (recorded in the audit log)')
    .option('--actor <name>', 'who amends', env.USER ?? 'cli')
    .action(async (runId: string, opts: { file: string; reason?: string; actor: string }) => {
      const plan = JSON.parse(await readFile(opts.file, 'utf8')) as Record<string, unknown>;
      const client = api();
      await client.put(`/v1/runs/${runId}/plan`, {
        summary: plan['summary'],
        steps: plan['steps'],
        actor: opts.actor,
        ...(opts.reason ? { reason: opts.reason } : {}),
      });
      console.log(renderRun(await client.get<RunView>(`/v1/runs/${runId}`)));
    });
  runs
    .command('watch')
    .argument('<runId>')
    .action(async (runId: string) => {
      await watchRun(api(), runId);
    });

  program
    .command('approve')
    .description('approve a run waiting for approval (bound to the plan you reviewed)')
    .argument('<runId>')
    .option(
      '--plan <hash>',
      'the plan hash you reviewed (from `runs show`; at least 8 characters); without it, the current plan is shown and approved',
    )
    .option('--budget <usd>', 'a new budget for the run (needed to release a budget stop)')
    .option('-r, --reason <text>', 'why (recorded in the audit log)')
    .option('--actor <name>', 'who decides', env.USER ?? 'cli')
    .action(
      async (
        runId: string,
        opts: { plan?: string; budget?: string; reason?: string; actor: string },
      ) => {
        const client = api();
        const view = await client.get<RunView>(`/v1/runs/${runId}`);
        const current = view.plan?.hash;
        if (!current) throw new AppError('CONFLICT', `run ${runId} has no plan to approve`);
        if (opts.plan !== undefined && (opts.plan.length < 8 || !current.startsWith(opts.plan))) {
          throw new AppError(
            'CONFLICT',
            `run ${runId}: its plan is ${current.slice(0, 12)}, not ${opts.plan} (it changed since you reviewed it, or the hash is mistyped); review it again`,
          );
        }
        if (opts.plan === undefined) console.log(renderRun(view));
        const result = await client.post<{ state: string }>(`/v1/runs/${runId}/approve`, {
          actor: opts.actor,
          planHash: current,
          ...(opts.reason ? { reason: opts.reason } : {}),
          ...(opts.budget ? { budgetUsd: Number(opts.budget) } : {}),
        });
        console.log(`run ${runId}: ${result.state} (plan ${current.slice(0, 12)})`);
      },
    );

  for (const verb of ['reject', 'cancel'] as const) {
    program
      .command(verb)
      .description(`${verb} a run`)
      .argument('<runId>')
      .option('-r, --reason <text>', 'why (recorded in the audit log)')
      .option('--actor <name>', 'who decides', env.USER ?? 'cli')
      .action(async (runId: string, opts: { reason?: string; actor: string }) => {
        const result = await api().post<{ state: string; spentUsd?: number }>(
          `/v1/runs/${runId}/${verb}`,
          { actor: opts.actor, ...(opts.reason ? { reason: opts.reason } : {}) },
        );
        const spent =
          result.spentUsd === undefined ? '' : ` (spent $${result.spentUsd.toFixed(4)})`;
        console.log(`run ${runId}: ${result.state}${spent}`);
      });
  }
}
