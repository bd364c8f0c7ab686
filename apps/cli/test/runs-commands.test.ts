import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCliFleet, type CliFleet } from './support/cli-fleet';

const runIdOf = (out: string) => /run ([0-9a-f-]{36})/.exec(out)?.[1] ?? '';

/** `agentry submit | approve | runs` against a real API, planner and executor. */
describe('agentry submit, approve and runs', () => {
  let fleet: CliFleet;
  beforeAll(async () => {
    fleet = await startCliFleet();
  });
  afterAll(async () => {
    await fleet?.api.close();
  });

  it('submit --watch prints the state changes and the final table, and exits 0', async () => {
    const { out, exitCode } = await runCli(
      ['submit', '--watch', '--tenant', 'cli', 'echo 2 steps'],
      fleet.env,
    );
    expect(exitCode).toBe(0);
    const runId = runIdOf(out);
    expect(out).toMatch(new RegExp(`^accepted: run ${runId}`));
    expect(out).toMatch(/\d\d:\d\d:\d\d\.\d{3} {2}run (pending|running)/);
    expect(out).toMatch(/step s1 \(echo\) succeeded/);
    expect(out).toMatch(/step s2 \(echo\) succeeded/);
    expect(out).toMatch(/run succeeded/);
    expect(out).toContain(`run ${runId}  tenant cli  state succeeded`);
    expect(out).toMatch(
      /#\s+STEP\s+TOOL\s+INPUT\s+AFTER\s+RISK\s+EST\s+COST\s+SPENT\s+STATE\s+ATTEMPTS/,
    );
    expect(out).toMatch(
      /2\s+s2\s+echo\s+\{.*\}\s+s1\s+low\s+1 ms \(tool\)\s+\$0\.00\s+\$0\.00\s+succeeded\s+1/,
    );
    expect(out).toMatch(/risk: low \(every step is low risk\)/);
  });

  it('submit --dry-run shows the review; approve binds to the reviewed plan and runs it', async () => {
    const submitted = await runCli(
      ['submit', '--dry-run', '--tenant', 'cli', 'deploy build 7 to production'],
      fleet.env,
    );
    const runId = runIdOf(submitted.out);
    // The review: each step with its tool, input, risk and estimate, then risk, cost and approval.
    expect(submitted.out).toMatch(/state awaiting_approval/);
    expect(submitted.out).toMatch(/#\s+STEP\s+TOOL\s+INPUT\s+AFTER\s+RISK\s+EST\s+COST/);
    expect(submitted.out).toMatch(
      /2\s+rollout\s+wait\s+\{"ms":50\}\s+prepare\s+high\s+50 ms \(tool\)/,
    );
    expect(submitted.out).toMatch(/risk: high \(step "rollout" \(wait\) is high risk\)/);
    expect(submitted.out).toMatch(/awaiting approval \(dry-run\): dry run/);
    const hash = /plan hash: ([0-9a-f]{12})/.exec(submitted.out)?.[1] ?? '';
    expect(hash).toHaveLength(12);

    await expect(
      runCli(['approve', runId, '--plan', 'deadbeef00'], fleet.env),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(
        /its plan is [0-9a-f]{12}, not deadbeef00 \(it changed since you reviewed it/,
      ),
    });
    const approved = await runCli(
      ['approve', runId, '--plan', hash, '--reason', 'looks right', '--actor', 'alice'],
      fleet.env,
    );
    expect(approved.out).toBe(`run ${runId}: running (plan ${hash})`);
    const watched = await runCli(['runs', 'watch', runId], fleet.env);
    expect(watched.out).toMatch(/state succeeded/);
    expect(watched.out).toMatch(new RegExp(`approved by alice at .*: looks right`));
    const audit = await fleet.api.database.db
      .selectFrom('auditLog')
      .selectAll()
      .where('targetId', '=', runId)
      .execute();
    expect(audit).toEqual([
      expect.objectContaining({
        actor: 'alice',
        action: 'run.approve',
        details: { reason: 'looks right', planHash: expect.stringMatching(new RegExp(`^${hash}`)) },
      }),
    ]);

    await expect(runCli(['approve', runId], fleet.env)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/not awaiting approval/),
    });
  });

  it('runs list filters by tenant and state; runs show --json prints the run detail', async () => {
    await runCli(['submit', '--watch', '--tenant', 'cli-list', 'echo 1 step'], fleet.env);
    const listed = await runCli(['runs', 'list', '--tenant', 'cli-list'], fleet.env);
    const [header, ...rows] = listed.out.split('\n');
    expect(header).toMatch(/^ID\s+TENANTID\s+STATE\s+CREATEDAT\s+FINISHEDAT$/);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/cli-list\s+succeeded/);
    const runId = rows[0]?.split(/\s+/)[0] ?? '';

    const none = await runCli(
      ['runs', 'list', '--tenant', 'cli-list', '--state', 'failed'],
      fleet.env,
    );
    expect(none.out.split('\n')).toHaveLength(1);
    const json = await runCli(['runs', 'list', '--tenant', 'cli-list', '--json'], fleet.env);
    expect(JSON.parse(json.out)).toMatchObject([{ id: runId, state: 'succeeded' }]);

    const shown = await runCli(['runs', 'show', runId, '--json'], fleet.env);
    const detail = JSON.parse(shown.out) as {
      run: { id: string; state: string };
      plan: { producedBy: string };
      steps: Array<{ stepId: string; state: string }>;
    };
    expect(detail.run).toMatchObject({ id: runId, state: 'succeeded' });
    expect(detail.steps).toEqual([expect.objectContaining({ stepId: 's1', state: 'succeeded' })]);

    const text = await runCli(['runs', 'show', runId], fleet.env);
    expect(text.out).toMatch(new RegExp(`^run ${runId}  tenant cli-list  state succeeded`));
  });
});
