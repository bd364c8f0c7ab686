import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KyselyPlugin } from 'kysely';
import { createConversationRepository, createRepositories, type Repositories } from '../src';
import { createTestDatabase, type TestDatabase } from '../src/testing';
import { intent, planOf, runInput } from './fixtures';

describe('conversations repository (Postgres)', () => {
  let t: TestDatabase;
  let repos: Repositories;
  let now = new Date('2030-01-01T00:00:00Z');
  const at = (iso: string) => {
    now = new Date(iso);
  };
  beforeAll(async () => {
    t = await createTestDatabase();
    repos = createRepositories(t.db, { clock: () => now });
  });
  afterAll(async () => {
    await t.close();
  });

  const turn = (tenantId: string, conversationId: string, text: string) =>
    repos.runs.create(
      runInput({ tenantId, conversationId, intent: intent({ tenantId, conversationId, text }) }),
    );
  const complete = async (runId: string, stepId: string, output: unknown) => {
    const claim = await repos.steps.startAttempt(runId, stepId, {
      attempt: 1,
      jobId: `step.${runId}.${stepId}`,
      worker: 'w1',
    });
    if (claim.kind !== 'run') throw new Error(`step ${stepId} not claimed: ${claim.reason}`);
    await repos.steps.complete(runId, stepId, claim.attemptId, output);
  };

  /** Turn 1 succeeded with two outputs, turn 2 failed after one step, turn 3 is pending. */
  const seedConversation = async (tenantId: string, conversationId: string) => {
    at('2030-01-01T10:00:00Z');
    const first = (await turn(tenantId, conversationId, 'deploy build 1 to staging')).run;
    await repos.runs.savePlan(first.id, planOf({ a: [], b: ['a'] }), 'running');
    await complete(first.id, 'a', { url: 'https://staging.example.com', build: 1 });
    await complete(first.id, 'b', 'verified');
    at('2030-01-01T10:05:00Z');
    const second = (await turn(tenantId, conversationId, 'now add metrics to it')).run;
    await repos.runs.savePlan(second.id, planOf({ m: [], n: ['m'] }), 'running');
    await complete(second.id, 'm', ['dashboard']);
    await repos.runs.transition(second.id, ['running'], 'failed', {
      error: { code: 'TOOL_FAILED', message: 'grafana said no', retryable: false },
    });
    at('2030-01-01T10:10:00Z');
    const third = (await turn(tenantId, conversationId, 'try again')).run;
    return [first.id, second.id, third.id];
  };

  it('reads turns oldest first with intent, plan, state, error and succeeded outputs', async () => {
    const ids = await seedConversation('acme', 'c-turns');
    const turns = await repos.conversations.turns('acme', 'c-turns');
    expect(turns.map((x) => [x.turn, x.runId])).toEqual([
      [1, ids[0]],
      [2, ids[1]],
      [3, ids[2]],
    ]);
    expect(turns[0]).toEqual({
      runId: ids[0],
      turn: 1,
      createdAt: new Date('2030-01-01T10:00:00Z'),
      intentText: 'deploy build 1 to staging',
      state: 'succeeded',
      planSummary: 'test plan',
      planSource: 'template',
      producedBy: 'test',
      error: null,
      outputs: [
        {
          stepId: 'a',
          tool: 'test.echo',
          output: { url: 'https://staging.example.com', build: 1 },
        },
        { stepId: 'b', tool: 'test.echo', output: 'verified' },
      ],
      spentUsd: 0,
    });
    expect(turns[1]).toMatchObject({
      state: 'failed',
      error: { code: 'TOOL_FAILED', message: 'grafana said no' },
      // `n` never ran (cancelled): only succeeded steps have outputs.
      outputs: [{ stepId: 'm', tool: 'test.echo', output: ['dashboard'] }],
    });
    expect(turns[2]).toMatchObject({
      state: 'pending',
      planSummary: null,
      planSource: null,
      producedBy: null,
      outputs: [],
    });
  });

  it('returns the most recent turns before a given turn, in at most two queries', async () => {
    await seedConversation('acme', 'c-window');
    let queries = 0;
    const counting: KyselyPlugin = {
      transformQuery: ({ node }) => {
        queries += 1;
        return node;
      },
      transformResult: async ({ result }) => result,
    };
    const repo = createConversationRepository(t.db.withPlugin(counting), () => now);
    const window = await repo.turns('acme', 'c-window', { beforeTurn: 3, limit: 1 });
    expect(window.map((x) => x.turn)).toEqual([2]);
    expect(queries).toBe(2);
    const beforeThird = await repo.turns('acme', 'c-window', { beforeTurn: 3 });
    expect(beforeThird.map((x) => x.turn)).toEqual([1, 2]);
    queries = 0;
    expect(await repo.turns('acme', 'no-such-conversation')).toEqual([]);
    expect(queries).toBe(1);
  });

  it('keeps tenants apart: the same id under another tenant is another conversation', async () => {
    await seedConversation('acme', 'shared-id');
    at('2030-01-02T00:00:00Z');
    const other = (await turn('globex', 'shared-id', 'something else entirely')).run;
    expect(other.turn).toBe(1);
    const globex = await repos.conversations.turns('globex', 'shared-id');
    expect(globex.map((x) => [x.turn, x.intentText])).toEqual([[1, 'something else entirely']]);
    expect(await repos.conversations.turns('acme', 'shared-id')).toHaveLength(3);
    expect(await repos.conversations.get('globex', 'shared-id')).toEqual({
      tenantId: 'globex',
      conversationId: 'shared-id',
      turns: 1,
      createdAt: new Date('2030-01-02T00:00:00Z'),
      lastTurnAt: new Date('2030-01-02T00:00:00Z'),
    });
    expect(await repos.conversations.get('acme', 'shared-id')).toMatchObject({ turns: 3 });
    expect(await repos.conversations.get('initech', 'shared-id')).toBeUndefined();
  });

  it('lists newest last turn first, by tenant, with a limit and paging', async () => {
    for (const [id, iso] of [
      ['l-old', '2031-01-01T00:00:00Z'],
      ['l-mid', '2031-01-02T00:00:00Z'],
      ['l-new', '2031-01-03T00:00:00Z'],
    ] as const) {
      at(iso);
      await turn('lister', id, `intent of ${id}`);
    }
    at('2031-01-04T00:00:00Z');
    await turn('lister', 'l-old', 'a later turn moves it to the top');
    const ids = (rows: Array<{ conversationId: string }>) => rows.map((r) => r.conversationId);
    expect(ids(await repos.conversations.list({ tenantId: 'lister' }))).toEqual([
      'l-old',
      'l-new',
      'l-mid',
    ]);
    expect(ids(await repos.conversations.list({ tenantId: 'lister', limit: 1 }))).toEqual([
      'l-old',
    ]);
    const page = await repos.conversations.list({
      tenantId: 'lister',
      before: new Date('2031-01-03T00:00:00Z'),
    });
    expect(ids(page)).toEqual(['l-mid']);
    expect(ids(await repos.conversations.list({ tenantId: 'nobody' }))).toEqual([]);
  });

  it('purges expired conversations in batches, detaching their runs and keeping them', async () => {
    const expired: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      at(`2020-01-0${i + 1}T00:00:00Z`);
      expired.push((await turn('purge', `old-${i}`, 'old work')).run.id);
    }
    at('2020-02-01T00:00:00Z');
    const kept = (await turn('purge', 'recent', 'recent work')).run.id;
    const olderThan = new Date('2020-01-15T00:00:00Z');

    expect(await repos.conversations.purgeExpired({ olderThan, limit: 2 })).toBe(2);
    const left = await repos.conversations.list({ tenantId: 'purge' });
    expect(left.map((c) => c.conversationId)).toEqual(['recent', 'old-2']);
    expect(await repos.conversations.purgeExpired({ olderThan, limit: 100 })).toBe(1);
    expect(await repos.conversations.purgeExpired({ olderThan, limit: 100 })).toBe(0);

    for (const id of expired) {
      expect(await repos.runs.get(id)).toMatchObject({
        id,
        conversationId: null,
        turn: null,
        intent: { text: 'old work' },
      });
    }
    expect(await repos.runs.get(kept)).toMatchObject({ conversationId: 'recent', turn: 1 });
    expect(await repos.conversations.turns('purge', 'old-0')).toEqual([]);

    // The id can be used again: a new conversation, from turn 1.
    at('2020-03-01T00:00:00Z');
    expect((await turn('purge', 'old-0', 'fresh start')).run.turn).toBe(1);
  });
});
