import type { Command } from 'commander';
import type { ApiClient } from '../api-client';
import { table, type RunView } from '../render';

/** A dead letter as `GET /v1/dead-letters` answers it (the fields used here). */
export interface DeadLetterView {
  id: string;
  sourceQueue: string;
  jobName: string;
  runId: string | null;
  stepId: string | null;
  errorCode: string;
  reason: string;
  error: { details?: Record<string, unknown> } | null;
  payload: Record<string, unknown>;
  attempts: number;
  failedAt: string;
}

/** Dead letters of one cause: source queue, error code and tool. */
export interface DeadLetterGroup {
  queue: string;
  code: string;
  /** `-` for a job that is not a step's (a plan job, a refused submission, a bad payload). */
  tool: string;
  count: number;
  first: string;
  last: string;
  /** The reason of the newest dead letter of the group. */
  example: string;
}

/** `GET /v1/dead-letters` answers at most this many per request, newest first. */
const apiPageLimit = 500;
/** How many runs are read at once to find the tool of step dead letters. */
const runReads = 8;

export function deadLetterCommands(program: Command, api: () => ApiClient) {
  const dlq = program
    .command('dlq')
    .description('dead letters: jobs that failed for good; alone, grouped by cause (= dlq groups)');
  dlq
    .command('groups', { isDefault: true })
    .description('unreplayed dead letters grouped by queue, error code and tool, biggest first')
    .option('-q, --queue <name>', 'only from this queue')
    .action(async (opts: { queue?: string }) => {
      const client = api();
      const { letters, capped } = await fetchUnreplayed(client, opts.queue);
      if (letters.length === 0) {
        console.log('no unreplayed dead letters');
        return;
      }
      const tools = await toolsOf(client, letters);
      const groups = groupDeadLetters(letters.map((l) => ({ ...l, tool: tools.get(l.id) })));
      console.log(
        table(
          groups.map((g) => ({ ...g, example: clip(g.example, 60) })),
          ['count', 'queue', 'code', 'tool', 'first', 'last', 'example'],
        ),
      );
      if (capped) {
        console.log(
          `note: grouped the newest ${letters.length} only (at most ${groupCap}); agentry dlq list pages through all`,
        );
      }
      const top = groups[0];
      if (top) {
        const tool = top.tool === '-' ? '' : ` --tool ${top.tool}`;
        console.log(`see them: agentry dlq list --queue ${top.queue} --code ${top.code}${tool}`);
      }
    });
  dlq
    .command('list')
    .option('-q, --queue <name>', 'only from this queue')
    .option('--code <code>', 'only with this error code (TOOL_FAILED, VALIDATION, ...)')
    .option('--tool <name>', "only of steps of this tool ('-' for jobs that are not steps)")
    .option('-n, --limit <n>', 'how many', '20')
    .option('--all', 'include replayed ones')
    .action(
      async (opts: {
        queue?: string;
        code?: string;
        tool?: string;
        limit: string;
        all?: boolean;
      }) => {
        const client = api();
        const filtered = opts.code !== undefined || opts.tool !== undefined;
        // Filters the API does not have are applied here, to as many as one request brings.
        const q = new URLSearchParams({
          limit: filtered ? String(apiPageLimit) : opts.limit,
          includeReplayed: String(opts.all ?? false),
        });
        if (opts.queue) q.set('queue', opts.queue);
        let { deadLetters } = await client.get<{ deadLetters: DeadLetterView[] }>(
          `/v1/dead-letters?${q}`,
        );
        const fetched = deadLetters.length;
        if (opts.code !== undefined) {
          const code = opts.code.toUpperCase();
          deadLetters = deadLetters.filter((l) => l.errorCode === code);
        }
        if (opts.tool !== undefined) {
          const tools = await toolsOf(client, deadLetters);
          deadLetters = deadLetters.filter((l) => (tools.get(l.id) ?? '-') === opts.tool);
        }
        console.log(
          table(deadLetters.slice(0, Number(opts.limit)), [
            'id',
            'sourceQueue',
            'jobName',
            'errorCode',
            'attempts',
            'failedAt',
            'reason',
          ]),
        );
        if (filtered && fetched >= apiPageLimit) {
          console.log(`note: filtered among the newest ${fetched} dead letters only`);
        }
      },
    );
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

/** The most dead letters `agentry dlq` groups. */
const groupCap = 5_000;

/**
 * The unreplayed dead letters, newest first, page after page up to {@link groupCap}; `capped`
 * when there are more.
 */
async function fetchUnreplayed(
  api: ApiClient,
  queue: string | undefined,
): Promise<{ letters: DeadLetterView[]; capped: boolean }> {
  const letters: DeadLetterView[] = [];
  let after: string | undefined;
  while (letters.length < groupCap) {
    const q = new URLSearchParams({ limit: String(apiPageLimit), includeReplayed: 'false' });
    if (queue) q.set('queue', queue);
    if (after) q.set('after', after);
    const page = await api.get<{ deadLetters: DeadLetterView[]; next?: string }>(
      `/v1/dead-letters?${q}`,
    );
    letters.push(...page.deadLetters);
    if (page.next === undefined) return { letters, capped: false };
    after = page.next;
  }
  return { letters: letters.slice(0, groupCap), capped: true };
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

/**
 * The tool of each step dead letter, by dead letter id: from its error details or payload when
 * they name it, else from its run's steps (each run read once, a few at a time). A run that
 * cannot be read leaves its dead letters without a tool.
 */
async function toolsOf(
  api: ApiClient,
  letters: readonly DeadLetterView[],
): Promise<Map<string, string>> {
  const tools = new Map<string, string>();
  const unknown: DeadLetterView[] = [];
  for (const l of letters) {
    const direct = text(l.error?.details?.tool) ?? text(l.payload.tool);
    if (direct !== undefined) tools.set(l.id, direct);
    else if (l.runId !== null && l.stepId !== null) unknown.push(l);
  }
  const runIds = [...new Set(unknown.map((l) => l.runId as string))];
  const stepsOf = new Map<string, Map<string, string>>();
  for (let i = 0; i < runIds.length; i += runReads) {
    await Promise.all(
      runIds.slice(i, i + runReads).map(async (runId) => {
        const view = await api.get<RunView>(`/v1/runs/${runId}`).catch(() => undefined);
        if (view) stepsOf.set(runId, new Map(view.steps.map((s) => [s.stepId, s.tool])));
      }),
    );
  }
  for (const l of unknown) {
    const tool = stepsOf.get(l.runId as string)?.get(l.stepId as string);
    if (tool !== undefined) tools.set(l.id, tool);
  }
  return tools;
}

/**
 * Group dead letters by (source queue, error code, tool), biggest group first (ties: the most
 * recent first). `tool` undefined counts as `-`. Pure.
 */
export function groupDeadLetters(
  letters: ReadonlyArray<
    Pick<DeadLetterView, 'sourceQueue' | 'errorCode' | 'reason' | 'failedAt'> & { tool?: string }
  >,
): DeadLetterGroup[] {
  const groups = new Map<string, DeadLetterGroup>();
  for (const l of letters) {
    const tool = l.tool ?? '-';
    const at = new Date(l.failedAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const key = JSON.stringify([l.sourceQueue, l.errorCode, tool]);
    const group = groups.get(key);
    if (!group) {
      groups.set(key, {
        queue: l.sourceQueue,
        code: l.errorCode,
        tool,
        count: 1,
        first: at,
        last: at,
        example: l.reason,
      });
      continue;
    }
    group.count += 1;
    if (at < group.first) group.first = at;
    if (at > group.last) {
      group.last = at;
      group.example = l.reason;
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || b.last.localeCompare(a.last));
}

/** One line, at most `max` characters. */
const clip = (s: string, max: number): string => {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
};
