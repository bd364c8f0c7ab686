import type { Command } from 'commander';
import type { ApiClient } from '../api-client';
import { renderRun } from '../render';
import { watchRun } from './watch-run';

interface SubmitOptions {
  tenant: string;
  dryRun?: boolean;
  watch?: boolean;
  idempotencyKey?: string;
  conversation?: string;
  budget?: string;
}

export function submitCommand(program: Command, api: () => ApiClient) {
  program
    .command('submit')
    .description('submit an intent; prints the run id')
    .argument('<text...>', 'what you want done, in words')
    .option('-t, --tenant <id>', 'tenant id', 'default')
    .option('--dry-run', 'plan only and show the review; the run waits for approval')
    .option('-w, --watch', 'follow the run until it ends')
    .option('--idempotency-key <key>', 'a retried submit with the same key returns the same run')
    .option('--conversation <id>', 'conversation the intent belongs to')
    .option('--budget <usd>', 'most this run may spend, in US dollars')
    .action(async (words: string[], opts: SubmitOptions) => {
      const client = api();
      const result = await client.post<{ runId: string; created: boolean; queued: boolean }>(
        '/v1/runs',
        {
          text: words.join(' '),
          tenantId: opts.tenant,
          dryRun: opts.dryRun ?? false,
          ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
          ...(opts.conversation ? { conversationId: opts.conversation } : {}),
          ...(opts.budget ? { budgetUsd: Number(opts.budget) } : {}),
        },
      );
      console.log(`${result.created ? 'accepted' : 'already accepted'}: run ${result.runId}`);
      if (!result.queued)
        console.log(
          'note: Redis is unreachable; the run is saved and will be planned once it is back',
        );
      if (opts.dryRun && !opts.watch) {
        // A dry run is for its review: wait for the plan and show it.
        const view = await watchRun(client, result.runId, { print: () => undefined });
        console.log(renderRun(view));
      } else if (opts.watch) {
        const view = await watchRun(client, result.runId);
        if (view.run.state === 'failed') process.exitCode = 1;
      }
    });
}
