import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SerializedError } from '@agentry/schema';
import type { Repositories } from '../src';
import { diamond, openTwoWorkers, planOf, runInput } from './fixtures';

const boom: SerializedError = { code: 'TOOL_FAILED', message: 'boom', retryable: true };

describe('steps repository (Postgres)', () => {
  let repos: Repositories;
  let repos2: Repositories;
  let startedRun: (graph: Record<string, string[]>) => Promise<string>;
  let close: () => Promise<void>;
  beforeAll(async () => {
    // Two pools on one schema: two worker processes, as far as Postgres can tell.
    ({ repos, repos2, startedRun, close } = await openTwoWorkers());
  });
  afterAll(() => close());
  const start = async (r: Repositories, runId: string, stepId: string, attempt = 1) => {
    const res = await r.steps.startAttempt(runId, stepId, {
      attempt,
      jobId: `step.${runId}.${stepId}`,
      worker: 'w1',
    });
    if (res.kind !== 'run') throw new Error(`expected to run ${stepId}, got ${res.reason}`);
    return res;
  };

  it('runs a diamond a→{b,c}→d; b and c completing at once on two connections ready d once', async () => {
    for (let round = 0; round < 5; round++) {
      const runId = await startedRun(diamond);
      const a = await start(repos, runId, 'a');
      expect(a.step).toMatchObject({ state: 'running', attempts: 1 });
      expect(await repos.steps.complete(runId, 'a', a.attemptId, { ok: 'a' })).toEqual({
        readyStepIds: ['b', 'c'],
        ready: [
          { stepId: 'b', maxAttempts: 3 },
          { stepId: 'c', maxAttempts: 3 },
        ],
        runSucceeded: false,
        alreadyDone: false,
        superseded: false,
        runState: 'running',
      });
      const b = await start(repos, runId, 'b');
      const c = await start(repos2, runId, 'c');
      const [rb, rc] = await Promise.all([
        repos.steps.complete(runId, 'b', b.attemptId, 'b-out'),
        repos2.steps.complete(runId, 'c', c.attemptId, ['c-out']),
      ]);
      expect([...rb.readyStepIds, ...rc.readyStepIds]).toEqual(['d']);
      expect(await repos.steps.get(runId, 'd')).toMatchObject({ state: 'queued', pendingDeps: 0 });

      const d = await start(repos2, runId, 'd');
      const done = await repos2.steps.complete(runId, 'd', d.attemptId, null);
      expect(done).toEqual({
        readyStepIds: [],
        ready: [],
        runSucceeded: true,
        alreadyDone: false,
        superseded: false,
        runState: 'succeeded',
      });
      const detail = await repos.runs.detail(runId);
      expect(detail?.run.state).toBe('succeeded');
      expect(detail?.run.finishedAt).toBeInstanceOf(Date);
      expect(detail?.steps.map((s) => s.output)).toEqual([{ ok: 'a' }, 'b-out', ['c-out'], null]);
      const attemptB = detail?.steps[1]?.attemptHistory;
      expect(attemptB).toHaveLength(1);
      expect(attemptB?.[0]).toMatchObject({
        id: b.attemptId,
        attempt: 1,
        outcome: 'succeeded',
        worker: 'w1',
      });
      expect(attemptB?.[0]?.durationMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('succeeds the run exactly once when its last two steps complete concurrently', async () => {
    for (let round = 0; round < 5; round++) {
      const runId = await startedRun({ a: [], b: [] });
      const a = await start(repos, runId, 'a');
      const b = await start(repos2, runId, 'b');
      const [ra, rb] = await Promise.all([
        repos.steps.complete(runId, 'a', a.attemptId, 1),
        repos2.steps.complete(runId, 'b', b.attemptId, 2),
      ]);
      expect([ra.runSucceeded, rb.runSucceeded].filter(Boolean)).toHaveLength(1);
      expect((await repos.runs.get(runId))?.state).toBe('succeeded');
    }
  });

  it('returns the maxAttempts of the steps a completion readied, by position', async () => {
    const { run } = await repos.runs.create(runInput());
    const saved = await repos.runs.savePlan(
      run.id,
      planOf({ a: [], c: ['a'], b: ['a'], d: ['b'] }, { a: 2, b: 5, c: 1 }),
      'running',
    );
    expect(saved.roots).toEqual([{ stepId: 'a', maxAttempts: 2 }]);
    const a = await start(repos, run.id, 'a');
    const done = await repos.steps.complete(run.id, 'a', a.attemptId, null);
    expect(done.ready).toEqual([
      { stepId: 'c', maxAttempts: 1 },
      { stepId: 'b', maxAttempts: 5 },
    ]);
    expect(done.readyStepIds).toEqual(['c', 'b']);
  });

  it('treats a repeated complete as already done', async () => {
    const runId = await startedRun({ a: [], b: ['a'] });
    const a = await start(repos, runId, 'a');
    expect((await repos.steps.complete(runId, 'a', a.attemptId, 1)).readyStepIds).toEqual(['b']);
    expect(await repos2.steps.complete(runId, 'a', a.attemptId, 1)).toEqual({
      readyStepIds: [],
      ready: [],
      runSucceeded: false,
      alreadyDone: true,
      superseded: false,
      runState: 'running',
    });
    expect((await repos.steps.get(runId, 'b'))?.pendingDeps).toBe(0);
  });

  it('skips a step that already succeeded, a step of a run not running and a step not ready', async () => {
    const runId = await startedRun({ a: [], b: ['a'] });
    const opts = { attempt: 1, jobId: 'j', worker: 'w' };
    expect(await repos.steps.startAttempt(runId, 'b', opts)).toMatchObject({
      kind: 'skip',
      reason: 'step-not-runnable',
      step: { state: 'pending' },
    });
    const a = await start(repos, runId, 'a');
    await repos.steps.complete(runId, 'a', a.attemptId, 'x');
    expect(await repos.steps.startAttempt(runId, 'a', { ...opts, attempt: 2 })).toMatchObject({
      kind: 'skip',
      reason: 'already-succeeded',
      step: { state: 'succeeded', attempts: 1 },
    });
    expect(await repos.steps.startAttempt(runId, 'zzz', opts)).toEqual({
      kind: 'skip',
      reason: 'not-found',
    });
    await repos.runs.transition(runId, ['running'], 'cancelled');
    expect(await repos.steps.startAttempt(runId, 'b', opts)).toMatchObject({
      kind: 'skip',
      reason: 'run-not-running',
    });
  });

  it('re-queues on a retryable failure and counts attempts; a re-delivery closes the abandoned attempt', async () => {
    const runId = await startedRun({ a: [] });
    const first = await start(repos, runId, 'a', 1);
    expect(await repos.steps.fail(runId, 'a', first.attemptId, boom, { final: false })).toEqual({
      runFailed: false,
      superseded: false,
    });
    expect(await repos.steps.get(runId, 'a')).toMatchObject({
      state: 'queued',
      error: boom,
      attempts: 1,
    });
    const second_ = await start(repos, runId, 'a', 2);
    // The worker died; BullMQ re-delivers the job while the step is still `running`.
    const third = await start(repos, runId, 'a', 3);
    expect(third.step.attempts).toBe(3);
    const done = await repos.steps.complete(runId, 'a', third.attemptId, 'ok');
    expect(done.runSucceeded).toBe(true);
    const history = (await repos.runs.detail(runId))?.steps[0]?.attemptHistory ?? [];
    expect(history.map((h) => [h.attempt, h.outcome])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'succeeded'],
    ]);
    expect(history[0]?.error).toEqual(boom);
    expect(history[1]?.id).toBe(second_.attemptId);
    expect(history[1]?.error?.message).toMatch(/abandoned/);
  });

  it('a final failure fails the run and cancels every pending or queued step', async () => {
    const runId = await startedRun({ a: [], b: [], c: ['a'], d: ['c'] });
    const a = await start(repos, runId, 'a');
    const fatal = { ...boom, retryable: false };
    expect(await repos.steps.fail(runId, 'a', a.attemptId, fatal, { final: true })).toEqual({
      runFailed: true,
      superseded: false,
    });
    const detail = await repos.runs.detail(runId);
    expect(detail?.run).toMatchObject({ state: 'failed', error: fatal });
    expect(detail?.steps.map((s) => [s.stepId, s.state])).toEqual([
      ['a', 'failed'],
      ['b', 'cancelled'],
      ['c', 'cancelled'],
      ['d', 'cancelled'],
    ]);
    expect(detail?.steps[0]?.attemptHistory[0]?.outcome).toBe('failed');
  });

  it('does not re-queue a step whose run has already failed', async () => {
    const runId = await startedRun({ a: [], b: [] });
    const a = await start(repos, runId, 'a');
    const b = await start(repos2, runId, 'b');
    await repos.steps.fail(runId, 'a', a.attemptId, boom, { final: true });
    expect(await repos2.steps.fail(runId, 'b', b.attemptId, boom, { final: false })).toEqual({
      runFailed: false,
      superseded: false,
    });
    expect(await repos.steps.get(runId, 'b')).toMatchObject({ state: 'cancelled', error: boom });
  });

  it('fails a step for good when its worker kept dying: open attempt closed, run failed once', async () => {
    const runId = await startedRun({ a: [], b: ['a'] });
    await start(repos, runId, 'a');
    const stalled: SerializedError = {
      code: 'INTERNAL',
      message: 'job stalled more than allowable limit',
      retryable: false,
    };
    expect(await repos.steps.failForGood(runId, 'a', stalled)).toEqual({ runFailed: true });
    expect(await repos.steps.failForGood(runId, 'a', stalled)).toEqual({ runFailed: false });
    const detail = await repos.runs.detail(runId);
    expect(detail?.run).toMatchObject({ state: 'failed', error: { message: stalled.message } });
    const [a, b] = detail?.steps ?? [];
    expect(a).toMatchObject({ state: 'failed' });
    expect(a?.attemptHistory.map((x) => x.outcome)).toEqual(['failed']);
    expect(b).toMatchObject({ state: 'cancelled' });
  });

  it('fences every write by the attempt: a worker whose step was re-claimed changes nothing', async () => {
    const runId = await startedRun({ a: [], b: ['a'] });
    // Worker 1 claims `a`, its lock lapses (event loop blocked), worker 2 re-claims it.
    const stale = await start(repos, runId, 'a', 1);
    const owner = await start(repos2, runId, 'a', 2);

    // Worker 1 wakes up with its call answered: its completion is refused, `b` stays pending.
    expect(await repos.steps.complete(runId, 'a', stale.attemptId, 'stale')).toEqual({
      readyStepIds: [],
      ready: [],
      runSucceeded: false,
      alreadyDone: true,
      superseded: true,
      runState: 'running',
    });
    expect(await repos.steps.get(runId, 'a')).toMatchObject({ state: 'running', output: null });
    expect(await repos.steps.get(runId, 'b')).toMatchObject({ state: 'pending', pendingDeps: 1 });
    // ... or its call failed, or it was told to shut down, or its budget ran out: the same.
    expect(await repos.steps.fail(runId, 'a', stale.attemptId, boom, { final: true })).toEqual({
      runFailed: false,
      superseded: true,
    });
    expect(await repos.steps.cancelAttempt(runId, 'a', stale.attemptId)).toEqual({
      requeued: false,
      superseded: true,
    });
    const park = {
      error: { code: 'BUDGET_EXCEEDED' as const, message: 'over', retryable: false },
      approval: {
        kind: 'budget' as const,
        reasons: ['over'],
        requestedAt: new Date().toISOString(),
        expiresAt: null,
      },
    };
    expect(await repos.steps.parkForBudget(runId, 'a', stale.attemptId, park)).toEqual({
      parked: false,
      superseded: true,
    });
    expect((await repos.runs.get(runId))?.state).toBe('running');
    expect(await repos.steps.get(runId, 'a')).toMatchObject({ state: 'running', attempts: 2 });

    // The owner completes it, once; its dependent is queued by that completion only.
    const done = await repos2.steps.complete(runId, 'a', owner.attemptId, 'owner');
    expect(done).toMatchObject({ readyStepIds: ['b'], superseded: false });
    const history = (await repos.runs.detail(runId))?.steps[0]?.attemptHistory ?? [];
    expect(history.map((h) => [h.attempt, h.outcome])).toEqual([
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
    expect(history[0]?.error?.message).toMatch(/abandoned/);
    expect((await repos.steps.get(runId, 'a'))?.output).toBe('owner');
  });

  it('cancels an attempt on shutdown and puts the step back in the queue', async () => {
    const runId = await startedRun({ a: [] });
    const a = await start(repos, runId, 'a');
    expect(await repos.steps.cancelAttempt(runId, 'a', a.attemptId)).toEqual({
      requeued: true,
      superseded: false,
    });
    expect((await repos.steps.queued(runId)).map((s) => s.stepId)).toEqual(['a']);
    expect(await repos.steps.cancelAttempt(runId, 'a', a.attemptId)).toEqual({
      requeued: false,
      superseded: false,
    });
    expect((await repos.runs.detail(runId))?.steps[0]?.attemptHistory[0]?.outcome).toBe(
      'cancelled',
    );
  });

  it('offers succeeded steps for compensation in reverse order, and marks them', async () => {
    const runId = await startedRun({ a: [], b: ['a'], c: ['b'] });
    for (const id of ['a', 'b']) {
      const s = await start(repos, runId, id);
      await repos.steps.complete(runId, id, s.attemptId, id);
    }
    const c = await start(repos, runId, 'c');
    await repos.steps.fail(runId, 'c', c.attemptId, boom, { final: true });
    expect((await repos.steps.forCompensation(runId)).map((s) => s.stepId)).toEqual(['b', 'a']);

    const failedUndo = await repos.steps.markCompensated(runId, 'b', { ok: false, error: boom });
    expect(failedUndo).toMatchObject({ state: 'succeeded', error: boom, compensatedAt: null });
    const undone = await repos.steps.markCompensated(runId, 'b', { ok: true });
    expect(undone?.state).toBe('compensated');
    expect(undone?.compensatedAt).toBeInstanceOf(Date);
    expect((await repos.steps.forCompensation(runId)).map((s) => s.stepId)).toEqual(['a']);
    expect(await repos.steps.markCompensated(runId, 'c', { ok: true })).toBeUndefined();
  });
});
