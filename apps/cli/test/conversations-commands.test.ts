import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationView } from '../src/commands/conversations';
import { runCli, startCliFleet, type CliFleet } from './support/cli-fleet';

const runIdOf = (out: string) => /run ([0-9a-f-]{36})/.exec(out)?.[1] ?? '';

/** `agentry submit --conversation` then `agentry conversations list | show`, on a real fleet. */
describe('agentry conversations', () => {
  let fleet: CliFleet;
  const runIds: string[] = [];
  beforeAll(async () => {
    fleet = await startCliFleet();
    for (const text of ['echo 2 steps', 'echo 1 step']) {
      const { out } = await runCli(
        ['submit', '--watch', '--tenant', 'cli', '--conversation', 'release-42', text],
        fleet.env,
      );
      expect(out).toMatch(/run succeeded/);
      runIds.push(runIdOf(out));
    }
    await runCli(
      ['submit', '--watch', '--tenant', 'cli-other', '--conversation', 'elsewhere', 'echo 1 step'],
      fleet.env,
    );
  });
  afterAll(async () => {
    await fleet?.api.close();
  });

  it('conversations list shows a tenant’s conversations with their turn counts', async () => {
    const { out } = await runCli(['conversations', 'list', '--tenant', 'cli'], fleet.env);
    const [header, ...rows] = out.split('\n');
    expect(header).toMatch(/^CONVERSATIONID\s+TENANTID\s+TURNS\s+CREATEDAT\s+LASTTURNAT$/);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/^release-42\s+cli\s+2\s+\d{4}-/);

    const all = await runCli(['conversations', 'list'], fleet.env);
    expect(
      all.out
        .split('\n')
        .slice(1)
        .map((r) => r.split(/\s+/)[0]),
    ).toEqual(['elsewhere', 'release-42']);
  });

  it('conversations show prints each turn: number, state, intent, plan and outputs', async () => {
    const { out } = await runCli(
      ['conversations', 'show', 'release-42', '--tenant', 'cli'],
      fleet.env,
    );
    const [title, header, first, second, ...rest] = out.split('\n');
    expect(title).toMatch(/^conversation release-42 {2}tenant cli {2}turns 2 {2}last turn \d{4}-/);
    expect(header).toMatch(/^TURN\s+STATE\s+INTENT\s+PLAN\s+OUTPUTS$/);
    expect(first).toMatch(
      /^1\s+succeeded\s+echo 2 steps\s+A chain of 2 echo steps\s+s1=\{"message":"step 1 of 2"\} s2=\{"message":"step 2 of 2"\}$/,
    );
    expect(second).toMatch(
      /^2\s+succeeded\s+echo 1 step\s+A chain of 1 echo steps\s+s1=\{"message":"step 1 of 1"\}$/,
    );
    expect(rest).toEqual([]);
  });

  it('conversations show --json prints the conversation and its turns', async () => {
    const { out } = await runCli(
      ['conversations', 'show', 'release-42', '--tenant', 'cli', '--json'],
      fleet.env,
    );
    const view = JSON.parse(out) as ConversationView;
    expect(view.conversation).toMatchObject({ tenantId: 'cli', conversationId: 'release-42' });
    expect(view.turns.map((t) => [t.turn, t.runId, t.state])).toEqual([
      [1, runIds[0], 'succeeded'],
      [2, runIds[1], 'succeeded'],
    ]);
  });

  it('conversations show fails with NOT_FOUND for another tenant’s conversation', async () => {
    await expect(
      runCli(['conversations', 'show', 'release-42', '--tenant', 'cli-other'], fleet.env),
    ).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/release-42/) });
  });
});
