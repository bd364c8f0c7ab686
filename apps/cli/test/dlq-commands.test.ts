import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIds } from '@agentry/schema';
import { runCli, startCliFleet, type CliFleet } from './support/cli-fleet';

/** `agentry dlq …` after a real failure drill on the real planner and executor. */
describe('agentry dlq', () => {
  let fleet: CliFleet;
  let runId = '';
  beforeAll(async () => {
    fleet = await startCliFleet();
    const drill = await runCli(
      ['submit', '--watch', '--tenant', 'cli', 'failure drill'],
      fleet.env,
    );
    runId = /run ([0-9a-f-]{36})/.exec(drill.out)?.[1] ?? '';
    expect(drill.out).toMatch(/state failed/);
    // A watched run that fails makes `agentry submit --watch` exit 1.
    expect(drill.exitCode).toBe(1);
  });
  afterAll(async () => {
    await fleet?.api.close();
  });

  it('lists the failed step, shows it, and replays it onto agentry.step', async () => {
    const listed = await runCli(['dlq', 'list', '--queue', 'agentry.step'], fleet.env);
    const [header, ...rows] = listed.out.split('\n');
    expect(header).toMatch(
      /^ID\s+SOURCEQUEUE\s+JOBNAME\s+ERRORCODE\s+ATTEMPTS\s+FAILEDAT\s+REASON$/,
    );
    const row = rows.find((r) => r.includes('agentry.step'));
    expect(row).toMatch(/agentry\.step\s+step\s+[A-Z_]+\s+\d+/);
    const id = row?.split(/\s+/)[0] ?? '';

    const shown = JSON.parse((await runCli(['dlq', 'show', id], fleet.env)).out) as {
      jobId: string;
      runId: string;
      stepId: string;
    };
    expect(shown).toMatchObject({ jobId: jobIds.step(runId, 'third'), runId, stepId: 'third' });

    // With the executor stopped, the replayed job stays where replay put it. The dead letter is
    // the step that failed its run, so replaying it resumes the run from that step.
    await fleet.executor.close({ deadlineMs: 5_000 });
    const replayed = await runCli(['dlq', 'replay', id], fleet.env);
    expect(JSON.parse(replayed.out)).toMatchObject({
      id,
      sourceQueue: 'agentry.step',
      jobId: shown.jobId,
      mode: 'resumed',
      resumed: { runId, state: 'running' },
    });
    expect((await fleet.api.services.repos.runs.get(runId))?.state).toBe('running');
    // The drill's completed steps were compensated, so the run starts again from its first step;
    // `third` is queued again once the steps before it have run.
    const queue = fleet.api.rawQueue('agentry.step');
    expect(await queue.getJobState(jobIds.step(runId, 'first'))).toBe('waiting');
    expect((await fleet.api.services.repos.steps.get(runId, 'third'))?.state).toBe('pending');

    const after = await runCli(['dlq', 'list', '--queue', 'agentry.step'], fleet.env);
    expect(after.out).not.toContain(id);
    const all = await runCli(['dlq', 'list', '--queue', 'agentry.step', '--all'], fleet.env);
    expect(all.out).toContain(id);

    const purged = await runCli(['dlq', 'purge', '--id', id], fleet.env);
    expect(purged.out).toBe('purged 1');
  });
});
