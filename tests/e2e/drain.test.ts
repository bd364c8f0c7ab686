import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestFleet } from '../support/fleet';

/** SIGTERM to an executor with a step in flight loses nothing. */
describe('graceful drain (separate processes)', () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await TestFleet.create();
    await fleet.startAll();
  }, 60_000);
  afterAll(async () => {
    await fleet?.close();
  }, 60_000);

  const submit = async (text: string) =>
    (await fleet.http<{ runId: string }>('POST', '/v1/runs', { text, tenantId: 'drain' })).body
      .runId;

  const waitForStepRunning = async (runId: string) => {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const detail = await fleet.waitForRun(runId, () => true);
      if (detail.steps.some((s) => s.state === 'running')) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('step never started');
  };

  it('lets an in-flight step finish within the deadline, then exits 0', async () => {
    const executor = fleet.processes.find((p) => p.app === 'executor');
    const runId = await submit('wait 700 ms');
    await waitForStepRunning(runId);
    const t0 = Date.now();
    executor?.signal('SIGTERM');
    expect(await executor?.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(10_000);
    const detail = await fleet.waitForRun(runId, (s) => s === 'succeeded', 5_000);
    expect(detail.steps[0]?.attemptHistory.map((a) => a.outcome)).toEqual(['succeeded']);
  });

  it('cancels a step longer than the deadline, hands it back, and a new executor finishes the run', async () => {
    const executor = fleet.start('executor', { AGENTRY_SHUTDOWN_DEADLINE_MS: '1500' });
    await executor.waitForLog((l) => l.msg === 'executor started');
    const runId = await submit('wait 4 s');
    await waitForStepRunning(runId);
    const t0 = Date.now();
    executor.signal('SIGTERM');
    expect(await executor.exited).toEqual({ code: 0, signal: null });
    const drainMs = Date.now() - t0;
    expect(drainMs).toBeLessThan(4_000);
    const parked = await fleet.waitForRun(runId, () => true);
    expect(parked.run.state).toBe('running');
    expect(parked.steps[0]?.state).toBe('queued');
    expect(parked.steps[0]?.attemptHistory.map((a) => a.outcome)).toEqual(['cancelled']);

    const next = fleet.start('executor');
    await next.waitForLog((l) => l.msg === 'executor started');
    const detail = await fleet.waitForRun(runId, (s) => s === 'succeeded', 20_000);
    expect(detail.steps[0]?.attemptHistory.map((a) => a.outcome)).toEqual([
      'cancelled',
      'succeeded',
    ]);
    const letters = await fleet.http<{ deadLetters: unknown[] }>('GET', '/v1/dead-letters');
    expect(letters.body.deadLetters).toEqual([]);
  });
});
