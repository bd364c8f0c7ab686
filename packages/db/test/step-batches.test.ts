import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Repositories } from '../src';
import { claimSteps, completeSteps } from '../src/step-batches';
import type { TestDatabase } from '../src/testing';
import { diamond, openTwoWorkers } from './fixtures';

const worker = (runId: string, stepId: string, attempt = 1) => ({
  attempt,
  jobId: `step.${runId}.${stepId}`,
  worker: 'w1',
});

describe('step batches: group commit of claims and completions (Postgres)', () => {
  let t: TestDatabase;
  let repos: Repositories;
  let repos2: Repositories;
  let startedRun: (graph: Record<string, string[]>) => Promise<string>;
  let close: () => Promise<void>;
  beforeAll(async () => {
    // Two pools on one schema: two worker processes, as far as Postgres can tell.
    ({ t, repos, repos2, startedRun, close } = await openTwoWorkers());
  });
  afterAll(() => close());

  it('answers each item of a batch as a lone call would, in the order asked', async () => {
    const runId = await startedRun({ a: [], b: ['a'], c: [] });
    const done = await startedRun({ a: [] });
    const claimed = await repos.steps.startAttempt(done, 'a', worker(done, 'a'));
    if (claimed.kind !== 'run') throw new Error('expected a claim');
    await repos.steps.complete(done, 'a', claimed.attemptId, 'x');

    const now = new Date();
    const answers = await claimSteps(t.db, now, [
      { runId, stepId: 'c', attempt: worker(runId, 'c') },
      { runId, stepId: 'b', attempt: worker(runId, 'b') },
      { runId, stepId: 'zzz', attempt: worker(runId, 'zzz') },
      { runId: done, stepId: 'a', attempt: worker(done, 'a', 2) },
      { runId, stepId: 'a', attempt: worker(runId, 'a') },
    ]);
    expect(answers.map((a) => (a.kind === 'run' ? a.step.stepId : a.reason))).toEqual([
      'c',
      'step-not-runnable',
      'not-found',
      'already-succeeded',
      'a',
    ]);
    const [c, , , , a] = answers;
    if (c?.kind !== 'run' || a?.kind !== 'run') throw new Error('expected claims');
    expect(c.step).toMatchObject({ state: 'running', attempts: 1 });

    const completed = await completeSteps(t.db, now, [
      { runId, stepId: 'a', attemptId: a.attemptId, output: { ok: 'a' } },
      { runId, stepId: 'c', attemptId: 'not-an-attempt', output: undefined },
      { runId, stepId: 'c', attemptId: c.attemptId, output: undefined },
    ]);
    expect(completed).toEqual([
      {
        readyStepIds: ['b'],
        ready: [{ stepId: 'b', maxAttempts: 3 }],
        runSucceeded: false,
        alreadyDone: false,
        superseded: false,
        runState: 'running',
      },
      expect.objectContaining({ alreadyDone: true, superseded: true }),
      expect.objectContaining({ readyStepIds: [], alreadyDone: false, runSucceeded: false }),
    ]);
    const { rows } = await sql<{ output: unknown; isNull: boolean }>`
      select output, output is null as is_null from steps
      where run_id = ${runId} and step_id = 'c'`.execute(t.db);
    // JSON null, as a lone call stores an undefined output; not SQL NULL.
    expect(rows[0]).toEqual({ output: null, isNull: false });
  });

  it('readies a dependent once when its last two dependencies complete in one batch', async () => {
    const runId = await startedRun(diamond);
    const a = await repos.steps.startAttempt(runId, 'a', worker(runId, 'a'));
    if (a.kind !== 'run') throw new Error('expected a claim');
    await repos.steps.complete(runId, 'a', a.attemptId, 'a');
    const [b, c] = await claimSteps(t.db, new Date(), [
      { runId, stepId: 'b', attempt: worker(runId, 'b') },
      { runId, stepId: 'c', attempt: worker(runId, 'c') },
    ]);
    if (b?.kind !== 'run' || c?.kind !== 'run') throw new Error('expected claims');
    const done = await completeSteps(t.db, new Date(), [
      { runId, stepId: 'c', attemptId: c.attemptId, output: 'c' },
      { runId, stepId: 'b', attemptId: b.attemptId, output: 'b' },
    ]);
    expect(done.flatMap((d) => d.readyStepIds)).toEqual(['d']);
    const d = await repos.steps.startAttempt(runId, 'd', worker(runId, 'd'));
    if (d.kind !== 'run') throw new Error('expected a claim');
    const [last] = await completeSteps(t.db, new Date(), [
      { runId, stepId: 'd', attemptId: d.attemptId, output: 'd' },
      { runId, stepId: 'd', attemptId: d.attemptId, output: 'd again' },
    ]).then((r) => [r[0], r[1]]);
    expect(last).toMatchObject({ runSucceeded: true, runState: 'succeeded' });
    expect((await repos.runs.get(runId))?.state).toBe('succeeded');
  });

  it('fails only the caller whose item the server refuses; the rest of its batch goes through', async () => {
    const runIds = await Promise.all(Array.from({ length: 6 }, () => startedRun({ a: [] })));
    const answers = await Promise.all(
      runIds.map((runId, i) =>
        repos.steps
          .startAttempt(runId, 'a', { ...worker(runId, 'a'), attempt: i === 3 ? 2 ** 31 : 1 })
          .then(
            (r) => r.kind,
            (e: unknown) => `error ${(e as { code?: string }).code}`,
          ),
      ),
    );
    // 2^31 overflows the integer attempt column: "22003 numeric value out of range".
    expect(answers).toEqual(['run', 'run', 'run', 'error 22003', 'run', 'run']);
  });

  it('runs many runs to success with two processes claiming and completing concurrently', async () => {
    const graph = { a: [], b: [], c: ['a', 'b'] };
    const runIds = await Promise.all(Array.from({ length: 30 }, () => startedRun(graph)));
    const run = async (r: Repositories, runId: string, stepId: string) => {
      const claim = await r.steps.startAttempt(runId, stepId, worker(runId, stepId));
      if (claim.kind !== 'run') return [];
      return (await r.steps.complete(runId, stepId, claim.attemptId, stepId)).readyStepIds;
    };
    // Process 1 takes every `a` in one order, process 2 every `b` in the other: their batches
    // hold locks of many runs at once, in the one order every batch takes them.
    const ready = await Promise.all([
      ...runIds.map((id) => run(repos, id, 'a')),
      ...[...runIds].reverse().map((id) => run(repos2, id, 'b')),
    ]);
    expect(ready.flat().sort()).toEqual(runIds.map(() => 'c'));
    await Promise.all(runIds.map((id, i) => run(i % 2 ? repos : repos2, id, 'c')));
    const states = await Promise.all(runIds.map((id) => repos.runs.get(id)));
    expect(states.map((s) => s?.state)).toEqual(runIds.map(() => 'succeeded'));
  });

  it('answers overlapping reads of runs together, each caller its own row', async () => {
    const runIds = await Promise.all(Array.from({ length: 5 }, () => startedRun({ a: [] })));
    const missing = '00000000-0000-4000-8000-000000000000';
    const asked = [runIds[0], missing, ...runIds, runIds[0]] as string[];
    const rows = await Promise.all(asked.map((id) => repos.runs.get(id)));
    expect(rows.map((r) => r?.id)).toEqual(asked.map((id) => (id === missing ? undefined : id)));
    expect(rows[0]).not.toBe(rows.at(-1));
  });
});
