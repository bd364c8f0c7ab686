import { describe, expect, it } from 'vitest';
import type { ConversationTurn } from '@agentry/db';
import { conversationHistory, interpolateConversationVariables } from '../src';

/** ceil(chars / 4), written out here so the budgets below do not lean on the code under test. */
const tokens = (text: string) => Math.ceil(text.length / 4);

const turn = (n: number, over: Partial<ConversationTurn> = {}): ConversationTurn => ({
  runId: `00000000-0000-4000-8000-00000000000${n}`,
  turn: n,
  createdAt: new Date(`2030-01-01T10:0${n}:00Z`),
  intentText: `intent ${n}`,
  state: 'succeeded',
  planSummary: `plan ${n}`,
  planSource: 'template',
  producedBy: 'deploy',
  error: null,
  outputs: [],
  spentUsd: 0,
  ...over,
});

const t1 = turn(1, {
  intentText: 'deploy build 1 to staging',
  planSummary: 'Deploy build 1 to staging',
  outputs: [
    { stepId: 'rollout', tool: 'http.request', output: { url: 'https://stg.example.com', n: 3 } },
    { stepId: 'verify', tool: 'echo', output: { checks: [{ id: 'c1', ok: true }] } },
  ],
});
const t2 = turn(2, {
  intentText: 'now add metrics to it',
  state: 'failed',
  planSummary: 'Add metrics',
  planSource: 'llm',
  producedBy: 'openai:gpt-4o',
  error: { code: 'TOOL_FAILED', message: 'grafana said no' },
});
const t3 = turn(3, {
  intentText: 'try again',
  planSummary: null,
  planSource: null,
  producedBy: null,
  state: 'pending',
});
const turns = [t1, t2, t3];

const u1 = { role: 'user', content: 'deploy build 1 to staging' };
const a1 = {
  role: 'assistant',
  content: [
    'Turn 1.',
    'Plan (template, deploy): Deploy build 1 to staging',
    'Outcome: succeeded',
    'Outputs:',
    '- rollout (http.request): {"url":"https://stg.example.com","n":3}',
    '- verify (echo): {"checks":[{"id":"c1","ok":true}]}',
  ].join('\n'),
};
const u2 = { role: 'user', content: 'now add metrics to it' };
const a2 = {
  role: 'assistant',
  content: [
    'Turn 2.',
    'Plan (llm, openai:gpt-4o): Add metrics',
    'Outcome: failed',
    'Error: [TOOL_FAILED] grafana said no',
  ].join('\n'),
};
const u3 = { role: 'user', content: 'try again' };
const a3 = {
  role: 'assistant',
  content: 'Turn 3.\nPlan: none (the run was not planned)\nOutcome: pending',
};
const note = (dropped: number, summarised: number) => ({
  role: 'user',
  content:
    'Earlier turns of this conversation follow, oldest first. To fit the context budget, ' +
    `${dropped} older turn(s) were dropped and ${summarised} turn(s) are summarised to one line.`,
});
const reserve = tokens(note(3, 3).content);
const size = (...messages: Array<{ content: string }>) =>
  messages.reduce((sum, m) => sum + tokens(m.content), 0);
const summary1 = { role: 'user', content: 'turn 1: deploy build 1 to staging → succeeded' };

describe('conversationHistory', () => {
  it('gives every turn in full, oldest first after the note, when all fit', () => {
    const history = conversationHistory(turns, { maxTokens: 2_000 });
    expect(history.messages).toEqual([note(0, 0), u1, a1, u2, a2, u3, a3]);
    expect(history).toMatchObject({ included: [1, 2, 3], summarised: [], dropped: [] });
    expect(history.tokens).toBe(size(note(0, 0), u1, a1, u2, a2, u3, a3));
  });

  it('summarises the oldest turn to one line when only its summary fits', () => {
    const maxTokens = reserve + size(u3, a3, u2, a2, summary1);
    const history = conversationHistory(turns, { maxTokens });
    expect(history.messages).toEqual([note(0, 1), summary1, u2, a2, u3, a3]);
    expect(history).toMatchObject({ included: [2, 3], summarised: [1], dropped: [] });
    expect(history.tokens).toBeLessThanOrEqual(maxTokens);
  });

  it('drops the oldest turn when not even its summary fits', () => {
    const maxTokens = reserve + size(u3, a3, u2, a2, summary1) - 1;
    const history = conversationHistory(turns, { maxTokens });
    expect(history.messages).toEqual([note(1, 0), u2, a2, u3, a3]);
    expect(history).toMatchObject({ included: [2, 3], summarised: [], dropped: [1] });
  });

  it('drops every older turn once one does not fit, even if an older one would', () => {
    const long = turn(2, { intentText: 'y'.repeat(4_000) });
    // Turn 3 in full, then turn 2 fits neither way; turn 1 (small) is dropped with it.
    const maxTokens = reserve + size(u3, a3) + 10;
    const history = conversationHistory([t1, long, t3], { maxTokens });
    expect(history).toMatchObject({ included: [3], summarised: [], dropped: [1, 2] });
    expect(history.messages).toEqual([note(2, 0), u3, a3]);
  });

  it('summarises a single huge newest turn and still gives older turns in full', () => {
    const huge = turn(3, { intentText: `redo it ${'x'.repeat(20_000)}` });
    const history = conversationHistory([t1, t2, huge], { maxTokens: 2_000 });
    const line = `turn 3: redo it ${'x'.repeat(151)}… → succeeded`;
    expect(history.messages).toEqual([note(0, 1), u1, a1, u2, a2, { role: 'user', content: line }]);
    expect(history).toMatchObject({ included: [1, 2], summarised: [3], dropped: [] });
  });

  it('bounds outputs: JSON cut to outputChars, at most maxOutputs, the rest counted', () => {
    const outputs = Array.from({ length: 4 }, (_, i) => ({
      stepId: `s${i}`,
      tool: 'echo',
      output: { text: 'z'.repeat(100) },
    }));
    const history = conversationHistory([turn(1, { outputs })], {
      maxTokens: 2_000,
      outputChars: 20,
      maxOutputs: 2,
    });
    expect(history.messages[2]?.content.split('\n').slice(3)).toEqual([
      'Outputs:',
      // 20 characters: 19 of the JSON and the ellipsis.
      `- s0 (echo): {"text":"${'z'.repeat(10)}…`,
      `- s1 (echo): {"text":"${'z'.repeat(10)}…`,
      '- … and 2 more output(s)',
    ]);
  });

  it('never exceeds the budget, and accounts for every turn exactly once', () => {
    for (let maxTokens = 0; maxTokens <= 200; maxTokens += 1) {
      const h = conversationHistory(turns, { maxTokens });
      expect(h.tokens).toBeLessThanOrEqual(maxTokens);
      expect(h.tokens).toBe(size(...h.messages));
      expect([...h.included, ...h.summarised, ...h.dropped].sort()).toEqual([1, 2, 3]);
    }
  });

  it('gives no messages for no turns, or when not even the note fits', () => {
    expect(conversationHistory([], { maxTokens: 2_000 })).toEqual({
      messages: [],
      included: [],
      summarised: [],
      dropped: [],
      tokens: 0,
    });
    expect(conversationHistory(turns, { maxTokens: reserve - 1 })).toEqual({
      messages: [],
      included: [],
      summarised: [],
      dropped: [1, 2, 3],
      tokens: 0,
    });
  });
});

describe('interpolateConversationVariables', () => {
  const latest = turn(3, {
    intentText: 'add a dashboard',
    outputs: [{ stepId: 'dash', tool: 'echo', output: { id: 'd-42', panels: ['cpu', 'mem'] } }],
  });
  const history = [t1, t2, latest];

  it('fills prev.* from the most recent turn and turn.<n>.* from turn n', () => {
    const text =
      'link {{prev.dash.id}} ({{ prev.dash.panels.1 }}) to {{turn.1.rollout.url}}, ' +
      'n={{turn.1.rollout.n}}, after "{{prev.intent}}" / "{{turn.2.intent}}": {{prev.dash}}';
    expect(interpolateConversationVariables(text, history)).toBe(
      'link d-42 (mem) to https://stg.example.com, n=3, after "add a dashboard" / ' +
        '"now add metrics to it": {"id":"d-42","panels":["cpu","mem"]}',
    );
  });

  it('returns text without variables unchanged, and leaves other placeholders alone', () => {
    const plain = 'deploy build 2 to staging';
    expect(interpolateConversationVariables(plain, history)).toBe(plain);
    expect(interpolateConversationVariables('restart {{service}}', history)).toBe(
      'restart {{service}}',
    );
  });

  it.each([
    ['{{prev.nope.x}}', /\{\{prev\.nope\.x\}\}.*no output of step "nope".*intent, dash/],
    ['{{turn.9.rollout}}', /\{\{turn\.9\.rollout\}\}.*turn\.1, turn\.2, turn\.3/],
    ['{{turn.1.rollout.port}}', /\{\{turn\.1\.rollout\.port\}\}.*"rollout\.port".*url, n/],
    ['{{turn.2.rollout}}', /turn 2 \(failed\) has no output of step "rollout"/],
    ['{{prev}}', /\{\{prev\}\}.*intent, or a step of turn 3.*dash/],
  ])('refuses %s, naming it and what exists', (text, message) => {
    expect(() => interpolateConversationVariables(text, history)).toThrow(
      expect.objectContaining({ code: 'VALIDATION', message: expect.stringMatching(message) }),
    );
  });

  it('refuses prev.* in a conversation with no earlier turn', () => {
    expect(() => interpolateConversationVariables('{{prev.intent}}', [])).toThrow(
      /\{\{prev\.intent\}\}: this conversation has no earlier turn/,
    );
  });
});
