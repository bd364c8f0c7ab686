import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepositories, type Repositories } from '../src';
import { createTestDatabase, type TestDatabase } from '../src/testing';
import { diamond, intent, planOf, runInput } from './fixtures';

describe('runs repository (Postgres)', () => {
  let t: TestDatabase;
  let repos: Repositories;
  beforeAll(async () => {
    t = await createTestDatabase();
    repos = createRepositories(t.db);
  });
  afterAll(async () => {
    await t.close();
  });

  it('creates a run and returns plain camelCase values (numeric budget as a number)', async () => {
    const input = runInput({
      budgetUsd: 2.5,
      conversationId: 'conv-1',
      planJobId: `plan.${randomUUID()}`,
    });
    const { run, created } = await repos.runs.create(input);
    expect(created).toBe(true);
    expect(run).toMatchObject({
      id: input.id,
      tenantId: 'acme',
      conversationId: 'conv-1',
      idempotencyKey: null,
      state: 'pending',
      dryRun: false,
      budgetUsd: 2.5,
      error: null,
      startedAt: null,
    });
    expect(run.createdAt).toBeInstanceOf(Date);
    // jsonb contents keep their own keys: no camelCasing inside the intent.
    expect(run.intent.metadata).toEqual({ build_number: 812, snake_case_key: 'kept as is' });
    expect(await repos.runs.get(input.id)).toEqual(run);
    expect(await repos.runs.get(randomUUID())).toBeUndefined();
    expect(await repos.runs.get('not-a-uuid')).toBeUndefined();
  });

  it('is idempotent on the id and on (tenant, idempotency key), also under a race', async () => {
    const first = runInput({ idempotencyKey: `key-${randomUUID()}` });
    await repos.runs.create(first);
    const again = await repos.runs.create(first);
    expect(again).toMatchObject({ created: false, run: { id: first.id } });

    const sameKey = await repos.runs.create({
      ...runInput(),
      idempotencyKey: first.idempotencyKey,
    });
    expect(sameKey).toMatchObject({ created: false, run: { id: first.id } });

    // The same key in another tenant is another run.
    const otherTenant = await repos.runs.create({
      ...runInput({ tenantId: 'globex' }),
      idempotencyKey: first.idempotencyKey,
    });
    expect(otherTenant.created).toBe(true);

    const key = `race-${randomUUID()}`;
    const results = await Promise.all(
      Array.from({ length: 6 }, () => repos.runs.create(runInput({ idempotencyKey: key }))),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
  });

  it('rejects a run id that is not a UUID', async () => {
    await expect(repos.runs.create(runInput({ id: 'nope' }))).rejects.toMatchObject({
      code: 'VALIDATION',
    });
  });

  it('lists newest first with filters, a default limit and paging by created time', async () => {
    const tenantId = `t-${randomUUID().slice(0, 8)}`;
    let ms = Date.parse('2030-01-01T00:00:00Z');
    const clocked = createRepositories(t.db, { clock: () => new Date((ms += 1_000)) });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await clocked.runs.create(runInput({ tenantId }))).run.id);
    const all = await repos.runs.list({ tenantId });
    expect(all.map((r) => r.id)).toEqual([...ids].reverse());
    const page = await repos.runs.list({ tenantId, before: all[0]?.createdAt, limit: 1 });
    expect(page.map((r) => r.id)).toEqual([ids[1]]);
    expect(await repos.runs.list({ tenantId, state: 'running' })).toEqual([]);
  });

  it('transitions conditionally and stamps started/finished', async () => {
    const { run } = await repos.runs.create(runInput());
    expect(await repos.runs.transition(run.id, ['running'], 'succeeded')).toBeUndefined();
    const running = await repos.runs.transition(run.id, ['pending'], 'running');
    expect(running?.state).toBe('running');
    expect(running?.startedAt).toBeInstanceOf(Date);
    expect(running?.finishedAt).toBeNull();
    const error = { code: 'TOOL_FAILED' as const, message: 'boom', retryable: false };
    const failed = await repos.runs.transition(run.id, ['running'], 'failed', { error });
    expect(failed).toMatchObject({ state: 'failed', error, startedAt: running?.startedAt });
    expect(failed?.finishedAt).toBeInstanceOf(Date);
  });

  it('saves a plan once, queueing its roots, and moves the run to running', async () => {
    const { run } = await repos.runs.create(runInput());
    const plan = planOf(diamond);
    expect(await repos.runs.savePlan(run.id, plan, 'running')).toEqual({
      saved: true,
      rootStepIds: ['a'],
      roots: [{ stepId: 'a', maxAttempts: 3 }],
    });
    expect((await repos.runs.get(run.id))?.state).toBe('running');
    // A re-delivered planner job: nothing changes, the queued roots come back for re-enqueueing.
    expect(await repos.runs.savePlan(run.id, plan, 'running')).toEqual({
      saved: false,
      rootStepIds: ['a'],
      roots: [{ stepId: 'a', maxAttempts: 3 }],
    });

    const detail = await repos.runs.detail(run.id);
    expect(detail?.plan).toMatchObject({
      runId: run.id,
      source: 'template',
      hash: plan.hash,
      body: plan.plan,
    });
    expect(
      detail?.steps.map((s) => [s.stepId, s.position, s.state, s.pendingDeps, s.dependsOn]),
    ).toEqual([
      ['a', 0, 'queued', 0, []],
      ['b', 1, 'pending', 1, ['a']],
      ['c', 2, 'pending', 1, ['a']],
      ['d', 3, 'pending', 2, ['b', 'c']],
    ]);
    expect(detail?.steps[0]?.queuedAt).toBeInstanceOf(Date);
    expect(detail?.steps[0]).toMatchObject({
      tool: 'test.echo',
      input: { id: 'a' },
      attempts: 0,
      attemptHistory: [],
    });
  });

  it('saves a plan in one round trip, stamped with the clock', async () => {
    const at = new Date('2031-02-03T04:05:06.789Z');
    let executed = 0;
    const counted = t.db.withPlugin({
      transformQuery: (args) => args.node,
      transformResult: (args) => {
        executed += 1;
        return Promise.resolve(args.result);
      },
    });
    const clocked = createRepositories(counted, { clock: () => at });
    const { run } = await repos.runs.create(runInput());
    executed = 0;
    // `b` lists its dependency twice: stored once, counted once.
    expect(
      await clocked.runs.savePlan(run.id, planOf({ a: [], b: ['a', 'a'], c: [] }), 'running'),
    ).toEqual({
      saved: true,
      rootStepIds: ['a', 'c'],
      roots: [
        { stepId: 'a', maxAttempts: 3 },
        { stepId: 'c', maxAttempts: 3 },
      ],
    });
    expect(executed).toBe(1);
    const detail = await repos.runs.detail(run.id);
    expect(detail?.run).toMatchObject({ state: 'running', startedAt: at, updatedAt: at });
    expect(detail?.plan?.createdAt).toEqual(at);
    // By position (topological order).
    expect(
      detail?.steps.map((s) => [s.stepId, s.state, s.pendingDeps, s.dependsOn, s.queuedAt]),
    ).toEqual([
      ['a', 'queued', 0, [], at],
      ['c', 'queued', 0, [], at],
      ['b', 'pending', 1, ['a'], null],
    ]);
    expect(detail?.steps[0]).toMatchObject({ timeoutMs: 30_000, risk: 'low' });
  });

  it('saves a plan once when deliveries race, each losing call answering the queued roots', async () => {
    const { run } = await repos.runs.create(runInput());
    const results = await Promise.all(
      Array.from({ length: 4 }, () => repos.runs.savePlan(run.id, planOf(diamond), 'running')),
    );
    expect(results.filter((r) => r.saved)).toHaveLength(1);
    for (const r of results) {
      expect(r).toMatchObject({ rootStepIds: ['a'], roots: [{ stepId: 'a', maxAttempts: 3 }] });
    }
    expect((await repos.runs.detail(run.id))?.steps).toHaveLength(4);
  });

  it('does not save a plan for a run that is no longer pending, nor for an unknown run', async () => {
    const { run } = await repos.runs.create(runInput());
    await repos.runs.cancel(run.id, 'changed my mind');
    expect(await repos.runs.savePlan(run.id, planOf(diamond), 'running')).toEqual({
      saved: false,
      rootStepIds: [],
      roots: [],
    });
    expect((await repos.runs.detail(run.id))?.plan).toBeNull();
    await expect(
      repos.runs.savePlan(randomUUID(), planOf(diamond), 'running'),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const bad = { ...planOf(diamond), order: ['a', 'b'] };
    await expect(repos.runs.savePlan(run.id, bad, 'running')).rejects.toMatchObject({
      code: 'PLAN_INVALID',
    });
  });

  it('holds a plan awaiting approval, then approval queues the roots', async () => {
    const { run } = await repos.runs.create(
      runInput({ dryRun: true, intent: intent({ dryRun: true }) }),
    );
    const saved = await repos.runs.savePlan(
      run.id,
      planOf({ a: [], b: [], c: ['a', 'b'] }, { b: 7 }),
      'awaiting_approval',
    );
    expect(saved).toEqual({ saved: true, rootStepIds: [], roots: [] });
    expect(await repos.runs.get(run.id)).toMatchObject({
      state: 'awaiting_approval',
      startedAt: null,
    });
    expect(await repos.steps.queued(run.id)).toEqual([]);
    const approval = { planHash: 'hash-abc', actor: 'alice' };
    expect(await repos.runs.approve(run.id, { ...approval, planHash: 'hash-other' })).toMatchObject(
      { outcome: 'plan-changed', currentHash: 'hash-abc' },
    );
    expect(await repos.runs.approve(run.id, approval)).toMatchObject({
      outcome: 'approved',
      roots: [
        { stepId: 'a', maxAttempts: 3 },
        { stepId: 'b', maxAttempts: 7 },
      ],
    });
    expect((await repos.runs.get(run.id))?.state).toBe('running');
    expect((await repos.steps.queued(run.id)).map((s) => s.stepId)).toEqual(['a', 'b']);
    expect(await repos.runs.approve(run.id, approval)).toMatchObject({ outcome: 'not-awaiting' });
  });

  it('rejects only a run awaiting approval; cancels any unfinished run and leaves a step in flight to finish', async () => {
    const { run } = await repos.runs.create(runInput());
    await repos.runs.savePlan(run.id, planOf(diamond), 'awaiting_approval');
    const rejected = await repos.runs.reject(run.id, 'too risky');
    expect(rejected).toMatchObject({
      state: 'rejected',
      error: { code: 'POLICY_DENIED', message: 'too risky' },
    });
    expect(rejected?.finishedAt).toBeInstanceOf(Date);
    const detail = await repos.runs.detail(run.id);
    expect(detail?.steps.every((s) => s.state === 'cancelled')).toBe(true);
    expect(await repos.runs.cancel(run.id, 'late')).toBeUndefined();
    expect(await repos.runs.reject(randomUUID(), 'unknown')).toBeUndefined();

    const other = (await repos.runs.create(runInput())).run;
    await repos.runs.savePlan(other.id, planOf(diamond), 'running');
    const started = await repos.steps.startAttempt(other.id, 'a', {
      attempt: 1,
      jobId: 'j',
      worker: 'w',
    });
    expect(started.kind).toBe('run');
    expect(await repos.runs.reject(other.id, 'an approval landed first')).toBeUndefined();
    expect(await repos.runs.cancel(other.id, 'operator')).toMatchObject({ state: 'cancelled' });
    const afterCancel = await repos.runs.detail(other.id);
    expect(afterCancel?.steps.map((s) => [s.stepId, s.state])).toEqual([
      ['a', 'running'],
      ['b', 'cancelled'],
      ['c', 'cancelled'],
      ['d', 'cancelled'],
    ]);
    // The step in flight settles: its result is kept, nothing after it becomes ready.
    if (started.kind !== 'run') throw new Error('unreachable');
    expect(await repos.steps.complete(other.id, 'a', started.attemptId, { done: true })).toEqual({
      readyStepIds: [],
      ready: [],
      runSucceeded: false,
      alreadyDone: false,
      superseded: false,
      runState: 'cancelled',
    });
    expect((await repos.runs.get(other.id))?.state).toBe('cancelled');
    expect((await repos.steps.forCompensation(other.id)).map((s) => s.stepId)).toEqual(['a']);
  });

  it('finds stale runs for the reconciler', async () => {
    const old = new Date('2001-01-01T00:00:00Z');
    const past = createRepositories(t.db, { clock: () => old });
    const { run } = await past.runs.create(runInput());
    const stale = await repos.runs.stale({
      states: ['pending'],
      olderThan: new Date('2002-01-01'),
      limit: 10,
    });
    expect(stale.map((r) => r.id)).toEqual([run.id]);
    expect(
      await repos.runs.stale({ states: ['running'], olderThan: new Date('2002-01-01'), limit: 10 }),
    ).toEqual([]);
  });
});
