import type { Command } from 'commander';
import type { CostReport } from '@agentry/engine';
import type { ApiClient } from '../api-client';
import { renderCostReport } from '../render-cost-report';

interface ReportOptions {
  tenant?: string;
  days?: string;
  from?: string;
  to?: string;
  json?: boolean;
}

/** `agentry cost report`: spend, projection, fleet estimate and suggestions (docs/costs.md). */
export function costCommands(program: Command, api: () => ApiClient): void {
  const cost = program.command('cost').description('what the fleet spends and costs');
  cost
    .command('report')
    .description('spend by tenant, model, tool and day; the month projected; suggestions')
    .option('-t, --tenant <id>', 'only this tenant')
    .option('-d, --days <n>', 'the window: this many days back from --to (default 30)')
    .option('--from <iso>', 'the window starts here (an instant or a UTC day), instead of --days')
    .option('--to <iso>', 'the window ends here (default: now)')
    .option('--json', 'print the raw JSON')
    .action(async (opts: ReportOptions) => {
      const q = new URLSearchParams();
      if (opts.tenant) q.set('tenantId', opts.tenant);
      if (opts.days) q.set('days', opts.days);
      if (opts.from) q.set('from', opts.from);
      if (opts.to) q.set('to', opts.to);
      const query = q.size === 0 ? '' : `?${q}`;
      const report = await api().get<CostReport>(`/v1/costs/report${query}`);
      console.log(opts.json ? JSON.stringify(report, null, 2) : renderCostReport(report));
    });
}
