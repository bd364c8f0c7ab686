import type { Command } from 'commander';
import type { ApiClient } from '../api-client';
import { table } from '../render';

export function deadLetterCommands(program: Command, api: () => ApiClient) {
  const dlq = program
    .command('dlq')
    .description('dead letters: jobs that failed for good, kept for inspection');
  dlq
    .command('list')
    .option('-q, --queue <name>', 'only from this queue')
    .option('-n, --limit <n>', 'how many', '20')
    .option('--all', 'include replayed ones')
    .action(async (opts: { queue?: string; limit: string; all?: boolean }) => {
      const q = new URLSearchParams({
        limit: opts.limit,
        includeReplayed: String(opts.all ?? false),
      });
      if (opts.queue) q.set('queue', opts.queue);
      const { deadLetters } = await api().get<{ deadLetters: Array<Record<string, unknown>> }>(
        `/v1/dead-letters?${q}`,
      );
      console.log(
        table(deadLetters, [
          'id',
          'sourceQueue',
          'jobName',
          'errorCode',
          'attempts',
          'failedAt',
          'reason',
        ]),
      );
    });
  dlq
    .command('show')
    .argument('<id>')
    .action(async (id: string) => {
      console.log(JSON.stringify(await api().get(`/v1/dead-letters/${id}`), null, 2));
    });
  dlq
    .command('replay')
    .argument('<id>')
    .action(async (id: string) => {
      console.log(JSON.stringify(await api().post(`/v1/dead-letters/${id}/replay`)));
    });
  dlq
    .command('purge')
    .option('--id <ids...>', 'these dead letters')
    .option('--older-than <iso>', 'everything failed before this time')
    .action(async (opts: { id?: string[]; olderThan?: string }) => {
      const result = await api().post<{ purged: number }>('/v1/dead-letters/purge', {
        ...(opts.id ? { ids: opts.id } : {}),
        ...(opts.olderThan ? { olderThan: new Date(opts.olderThan).toISOString() } : {}),
      });
      console.log(`purged ${result.purged}`);
    });
}
