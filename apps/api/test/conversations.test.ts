import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestApi, storePlan } from './support/test-api';

interface ConversationsAnswer {
  conversations: Array<{ tenantId: string; conversationId: string; turns: number }>;
}
interface ShowAnswer {
  conversation: { tenantId: string; conversationId: string; turns: number; lastTurnAt: string };
  turns: Array<{
    runId: string;
    turn: number;
    intentText: string;
    state: string;
    planSummary: string | null;
    outputs: unknown[];
  }>;
}
interface ErrorAnswer {
  error: { code: string; message: string };
}

/** Conversations over HTTP: turns submitted with POST /v1/runs, then listed and shown. */
describe('GET /v1/conversations', () => {
  let api: TestApi;
  const runIds: string[] = [];
  // Printable ASCII with characters a path must percent-encode.
  const conversationId = 'ops/ticket#12?';
  const path = `/v1/tenants/acme/conversations/${encodeURIComponent(conversationId)}`;

  beforeAll(async () => {
    api = await TestApi.start();
    for (const text of ['deploy build 7 to staging', 'now add metrics to it', 'echo 1 step']) {
      const answer = await api.http<{ runId: string }>('POST', '/v1/runs', {
        text,
        tenantId: 'acme',
        conversationId,
      });
      expect(answer.status).toBe(202);
      runIds.push(answer.body.runId);
    }
    await storePlan(api, runIds[0] ?? '', { a: [] }, 'running');
    await api.http('POST', '/v1/runs', { text: 'elsewhere', tenantId: 'globex', conversationId });
    await api.http('POST', '/v1/runs', {
      text: 'other thread',
      tenantId: 'acme',
      conversationId: 'c-2',
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('shows a conversation with its turns, oldest first', async () => {
    const { status, body } = await api.http<ShowAnswer>('GET', path);
    expect(status).toBe(200);
    expect(body.conversation).toMatchObject({ tenantId: 'acme', conversationId, turns: 3 });
    expect(body.turns.map((t) => [t.turn, t.runId, t.intentText])).toEqual([
      [1, runIds[0], 'deploy build 7 to staging'],
      [2, runIds[1], 'now add metrics to it'],
      [3, runIds[2], 'echo 1 step'],
    ]);
    expect(body.turns[0]).toMatchObject({
      state: 'running',
      planSummary: 'test plan',
      outputs: [],
    });
    expect(body.turns[1]).toMatchObject({ state: 'pending', planSummary: null });

    const page = await api.http<ShowAnswer>('GET', `${path}?beforeTurn=3&limit=1`);
    expect(page.body.turns.map((t) => t.turn)).toEqual([2]);
  });

  it('lists conversations newest first, by tenant', async () => {
    const acme = await api.http<ConversationsAnswer>('GET', '/v1/conversations?tenantId=acme');
    expect(acme.status).toBe(200);
    expect(acme.body.conversations.map((c) => [c.conversationId, c.turns])).toEqual([
      ['c-2', 1],
      [conversationId, 3],
    ]);
    const all = await api.http<ConversationsAnswer>('GET', '/v1/conversations?limit=500');
    expect(all.body.conversations.map((c) => `${c.tenantId}:${c.conversationId}`).sort()).toEqual(
      [`acme:${conversationId}`, 'acme:c-2', `globex:${conversationId}`].sort(),
    );
    const one = await api.http<ConversationsAnswer>('GET', '/v1/conversations?limit=1');
    expect(one.body.conversations).toHaveLength(1);
  });

  it('keeps tenants apart: the same id under another tenant has its own turns', async () => {
    const other = await api.http<ShowAnswer>(
      'GET',
      `/v1/tenants/globex/conversations/${encodeURIComponent(conversationId)}`,
    );
    expect(other.body.turns.map((t) => t.intentText)).toEqual(['elsewhere']);
  });

  it('takes conversation ids of up to 128 characters, percent-encoded', async () => {
    const long = `${'#'.repeat(64)}${'x'.repeat(64)}`;
    await api.http('POST', '/v1/runs', {
      text: 'long id',
      tenantId: 'longid',
      conversationId: long,
    });
    const { status, body } = await api.http<ShowAnswer>(
      'GET',
      `/v1/tenants/longid/conversations/${encodeURIComponent(long)}`,
    );
    expect(status).toBe(200);
    expect(body.conversation.conversationId).toBe(long);
  });

  it('answers 404 for an unknown conversation', async () => {
    const { status, body } = await api.http<ErrorAnswer>(
      'GET',
      '/v1/tenants/initech/conversations/c-2',
    );
    expect(status).toBe(404);
    expect(body.error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/c-2/) });
  });

  it('answers 400 for a bad tenant, conversation id or query', async () => {
    for (const bad of [
      '/v1/tenants/Not_A_Tenant!/conversations/c-2',
      `/v1/tenants/acme/conversations/${encodeURIComponent('has space')}`,
      `/v1/tenants/acme/conversations/${'x'.repeat(129)}`,
      '/v1/conversations?tenantId=UPPER',
      '/v1/conversations?limit=0',
      `${path}?beforeTurn=zero`,
    ]) {
      const { status, body } = await api.http<ErrorAnswer>('GET', bad);
      expect({ bad, status, code: body.error.code }).toEqual({
        bad,
        status: 400,
        code: 'VALIDATION',
      });
    }
  });
});
