import type { Command } from 'commander';
import type { ApiClient } from '../api-client';
import { table } from '../render';

/** What `GET /v1/tenants/:tenantId/conversations/:id` answers (the fields shown here). */
export interface ConversationView {
  conversation: { tenantId: string; conversationId: string; turns: number; lastTurnAt: string };
  turns: Array<{
    turn: number;
    runId: string;
    state: string;
    intentText: string;
    planSummary: string | null;
    outputs: Array<{ stepId: string; output: unknown }>;
  }>;
}

/** `agentry conversations list | show`. */
export function conversationCommands(program: Command, api: () => ApiClient): void {
  const conversations = program
    .command('conversations')
    .description('list conversations and show their turns');
  conversations
    .command('list')
    .option('-t, --tenant <id>', 'only this tenant')
    .option('-n, --limit <n>', 'how many', '20')
    .action(async (opts: { tenant?: string; limit: string }) => {
      const q = new URLSearchParams({ limit: opts.limit });
      if (opts.tenant) q.set('tenantId', opts.tenant);
      const { conversations: rows } = await api().get<{
        conversations: Array<Record<string, unknown>>;
      }>(`/v1/conversations?${q}`);
      console.log(table(rows, ['conversationId', 'tenantId', 'turns', 'createdAt', 'lastTurnAt']));
    });
  conversations
    .command('show')
    .argument('<conversationId>')
    .option('-t, --tenant <id>', 'tenant id', 'default')
    .option('-n, --limit <n>', 'the most recent this many turns', '50')
    .option('--json', 'print the raw JSON')
    .action(async (id: string, opts: { tenant: string; limit: string; json?: boolean }) => {
      const path = `/v1/tenants/${encodeURIComponent(opts.tenant)}/conversations/${encodeURIComponent(id)}`;
      const view = await api().get<ConversationView>(`${path}?limit=${opts.limit}`);
      console.log(opts.json ? JSON.stringify(view, null, 2) : renderConversation(view));
    });
}

/** A header line, then one row per turn: number, state, intent, plan summary, key outputs. */
export function renderConversation({ conversation: c, turns }: ConversationView): string {
  const header = `conversation ${c.conversationId}  tenant ${c.tenantId}  turns ${c.turns}  last turn ${c.lastTurnAt}`;
  const rows = turns.map((t) => ({
    turn: t.turn,
    state: t.state,
    intent: short(t.intentText, 48),
    plan: t.planSummary === null ? null : short(t.planSummary, 40),
    outputs:
      short(
        t.outputs.map((o) => `${o.stepId}=${JSON.stringify(o.output) ?? 'null'}`).join(' '),
        60,
      ) || null,
  }));
  return [header, table(rows, ['turn', 'state', 'intent', 'plan', 'outputs'])].join('\n');
}

const short = (text: string, max: number) => {
  const line = text.replace(/\s+/g, ' ');
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
};
