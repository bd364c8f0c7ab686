import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCliFleet, type CliFleet } from './support/cli-fleet';

/**
 * `agentry dlq` (groups) over dead letters of two causes made by the real planner and executor:
 * two failure drills (a fatal `echo` step each) and one raw plan job with a bad payload.
 */
describe('agentry dlq groups', () => {
  let fleet: CliFleet;
  const drills: string[] = [];
  beforeAll(async () => {
    fleet = await startCliFleet();
    for (let i = 0; i < 2; i += 1) {
      const drill = await runCli(
        ['submit', '--watch', '--tenant', 'cli', 'failure drill'],
        fleet.env,
      );
      expect(drill.exitCode).toBe(1);
      drills.push(drill.out);
    }
    // A producer in another language got the payload wrong: dead-lettered as VALIDATION, no tool.
    await fleet.api
      .rawQueue('agentry.plan')
      .add('plan', { text: 'not an intent' }, { jobId: 'bad-plan-1' });
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { body } = await fleet.api.http<{ deadLetters: unknown[] }>('GET', '/v1/dead-letters');
      if (body.deadLetters.length >= 3) break;
      if (Date.now() > deadline)
        throw new Error(`expected 3 dead letters, have ${body.deadLetters.length}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(async () => {
    await fleet?.api.close();
  });

  it('groups by queue, code and tool, the biggest cause first, with a hint to list it', async () => {
    const { out, exitCode } = await runCli(['dlq'], fleet.env);
    expect(exitCode).toBe(0);
    const [header, first, second, ...rest] = out.split('\n');
    expect(header).toMatch(/^COUNT\s+QUEUE\s+CODE\s+TOOL\s+FIRST\s+LAST\s+EXAMPLE$/);
    const stamp = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`;
    // The tool of a step dead letter is found through its run (the error does not name it).
    expect(first).toMatch(
      new RegExp(
        String.raw`^2\s+agentry\.step\s+TOOL_FAILED\s+echo\s+${stamp}\s+${stamp}\s+\S.*rehearsed fatal failure`,
      ),
    );
    expect(second).toMatch(
      new RegExp(String.raw`^1\s+agentry\.plan\s+VALIDATION\s+-\s+${stamp}\s+${stamp}\s+\S`),
    );
    expect(rest).toEqual([
      'see them: agentry dlq list --queue agentry.step --code TOOL_FAILED --tool echo',
    ]);
    expect((await runCli(['dlq', 'groups'], fleet.env)).out).toBe(out);

    const planOnly = await runCli(['dlq', 'groups', '--queue', 'agentry.plan'], fleet.env);
    expect(planOnly.out.split('\n').filter((l) => /^\d/.test(l))).toHaveLength(1);
    expect(planOnly.out).toContain(
      'see them: agentry dlq list --queue agentry.plan --code VALIDATION',
    );
  });

  it('dlq list filters by code and tool, keeping its columns', async () => {
    const rows = async (...args: string[]) => {
      const { out } = await runCli(['dlq', 'list', ...args], fleet.env);
      const [header, ...body] = out.split('\n');
      expect(header).toMatch(
        /^ID\s+SOURCEQUEUE\s+JOBNAME\s+ERRORCODE\s+ATTEMPTS\s+FAILEDAT\s+REASON$/,
      );
      return body;
    };
    const echo = await rows('--code', 'TOOL_FAILED', '--tool', 'echo');
    expect(echo).toHaveLength(2);
    for (const row of echo) expect(row).toMatch(/agentry\.step\s+step\s+TOOL_FAILED/);
    const invalid = await rows('--code', 'validation');
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatch(/agentry\.plan\s+plan\s+VALIDATION/);
    expect(await rows('--tool', '-')).toHaveLength(1);
    expect(await rows('--tool', 'echo', '--queue', 'agentry.plan')).toHaveLength(0);
    expect(await rows('-n', '1')).toHaveLength(1);
  });

  it('submit --watch printed the live progress of the drills', () => {
    for (const out of drills) {
      expect(out).toMatch(
        /\d\d:\d\d:\d\d\.\d{3} {2}progress: (planning|no steps|\d\/3 steps done)/,
      );
      // The last line before the final table: the third step failed, the first two were done.
      expect(out).toMatch(
        /progress: 2\/3 steps done, 1 failed, elapsed [\d.]+ s, cost \$0\.0000 of est\. \$\d+\.\d{4}\n/,
      );
    }
  });

  it('doctor sees the workers of the fleet and counts the dead letters, pointing at dlq', async () => {
    const { out } = await runCli(['doctor'], fleet.env);
    expect(out).toMatch(/PASS {2}queue:agentry\.step\s+.*, [1-9]\d* worker\(s\)/);
    expect(out).toMatch(/PASS {2}queue:agentry\.plan\s+.*, [1-9]\d* worker\(s\)/);
    expect(out).toMatch(/WARN {2}dead-letters\s+3 unreplayed \(agentry\.step 2, agentry\.plan 1\)/);
    expect(out).toContain('fix: agentry dlq shows them grouped by cause');
  });
});
