import { jobIds } from '@agentry/schema';
import { describe, expect, it } from 'vitest';
import { deadLettersOnce, runReaches, startRun, waitFor, useRunningExecutor } from './support';

const t = useRunningExecutor('exec-retry');

describe('executor: retryable failures', () => {
  it('retries a transient failure with backoff, dead-letters it after maxAttempts, fails the run and compensates in reverse', async () => {
    const { runId, correlationId } = await startRun(t.fleet, [
      { id: 'a', tool: 'rec' },
      { id: 'b', tool: 'rec', dependsOn: ['a'] },
      { id: 'c', tool: 'echo', dependsOn: ['b'], input: { fail: 'transient' }, maxAttempts: 3 },
      { id: 'd', tool: 'rec', dependsOn: ['c'] },
    ]);
    const detail = await runReaches(t.fleet, runId, 'failed', 15_000);
    expect(detail.run.error).toMatchObject({
      code: 'TRANSIENT',
      message: 'echo: rehearsed transient failure',
    });
    const c = detail.steps.find((s) => s.stepId === 'c');
    expect(c).toMatchObject({ state: 'failed', attempts: 3 });
    const tries = c?.attemptHistory ?? [];
    expect(tries.map((a) => [a.attempt, a.outcome, a.error?.code])).toEqual([
      [1, 'failed', 'TRANSIENT'],
      [2, 'failed', 'TRANSIENT'],
      [3, 'failed', 'TRANSIENT'],
    ]);
    // Full-jitter backoff (a random wait below 1 s, then below 2 s: see `retryBackoff` in
    // @agentry/queue, whose tests pin the delays), so only the order is certain here.
    const gap = (i: number) =>
      (tries[i]?.startedAt.getTime() ?? 0) - (tries[i - 1]?.startedAt.getTime() ?? 0);
    expect(gap(1)).toBeGreaterThanOrEqual(0);
    expect(gap(2)).toBeGreaterThanOrEqual(0);
    expect(detail.steps.find((s) => s.stepId === 'd')?.state).toBe('cancelled');

    const [letter] = await deadLettersOnce(t.fleet, runId);
    expect(letter).toMatchObject({
      jobId: jobIds.step(runId, 'c'),
      stepId: 'c',
      correlationId,
      errorCode: 'TRANSIENT',
      attempts: 3,
      reason: 'echo: rehearsed transient failure',
    });

    // Rising severity: a first transient failure is info, a repeat warn, the last one error.
    const failures = t.fleet.logs.filter(
      (l) => l.runId === runId && l.stepId === 'c' && String(l.msg).startsWith('step failed'),
    );
    expect(failures.map((l) => [l.level, l.msg])).toEqual([
      ['info', 'step failed, will retry'],
      ['warn', 'step failed, will retry'],
      ['error', 'step failed for good'],
    ]);

    await waitFor(() => t.rec.compensations.length === 2, 5_000, 'compensations');
    expect(t.rec.compensations).toEqual(['b', 'a']);
    const after = await t.fleet.repos.runs.detail(runId);
    const [a, b] = [after?.steps[0], after?.steps[1]];
    expect([a?.state, b?.state]).toEqual(['compensated', 'compensated']);
    expect(b?.compensatedAt?.getTime()).toBeLessThanOrEqual(a?.compensatedAt?.getTime() ?? 0);
  });

  it("honours the step's own timeoutMs: TIMEOUT quickly, retried per maxAttempts", async () => {
    const started = Date.now();
    const { runId } = await startRun(t.fleet, [
      { id: 'slow', tool: 'wait', input: { ms: 5_000 }, timeoutMs: 300, maxAttempts: 2 },
    ]);
    const detail = await runReaches(t.fleet, runId, 'failed', 8_000);
    expect(Date.now() - started).toBeLessThan(4_000);
    const [slow] = detail.steps;
    expect(slow?.attemptHistory.map((a) => [a.attempt, a.outcome, a.error?.code])).toEqual([
      [1, 'failed', 'TIMEOUT'],
      [2, 'failed', 'TIMEOUT'],
    ]);
    for (const a of slow?.attemptHistory ?? []) expect(a.durationMs).toBeLessThan(1_500);
    expect(await deadLettersOnce(t.fleet, runId)).toEqual([
      expect.objectContaining({ errorCode: 'TIMEOUT', attempts: 2 }),
    ]);
    // Nothing had succeeded, so nothing is queued for compensation.
    expect(
      (await t.fleet.queue('agentry.step').getJob(jobIds.compensate(runId)))?.id,
    ).toBeUndefined();
  });
});
