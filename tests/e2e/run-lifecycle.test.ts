import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIds, stableUuid } from '@agentry/schema';
import { TestFleet, type RunDetail } from '../support/fleet';

/**
 * The run lifecycle end to end: real planner, executor and API processes on the real Redis and
 * Postgres, driven over HTTP and by raw BullMQ enqueue.
 */
describe('run lifecycle (separate processes)', () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await TestFleet.create();
    await fleet.startAll();
  }, 60_000);
  afterAll(async () => {
    await fleet?.close();
  }, 60_000);

  it('runs an intent submitted over HTTP to success, with the correlation id on every job', async () => {
    const submitted = await fleet.http<{ runId: string; created: boolean }>(
      'POST',
      '/v1/runs',
      { text: 'deploy build 812 to staging and post the result to #ops', tenantId: 'acme' },
      { 'x-correlation-id': 'corr-e2e-deploy' },
    );
    expect(submitted.status).toBe(202);
    expect(submitted.headers.get('x-correlation-id')).toBe('corr-e2e-deploy');
    const detail = await fleet.waitForRun(submitted.body.runId, (s) => s === 'succeeded');
    expect(detail.run.correlationId).toBe('corr-e2e-deploy');
    expect(detail.plan?.producedBy).toBe('template:deploy');
    expect(detail.steps.map((s) => [s.stepId, s.state, s.attempts])).toEqual([
      ['prepare', 'succeeded', 1],
      ['rollout', 'succeeded', 1],
      ['verify', 'succeeded', 1],
      ['notify', 'succeeded', 1],
    ]);
    const [planner, executor] = fleet.processes;
    const stepLogs =
      executor?.lines.filter((l) => l.runId === submitted.body.runId && l.stepId) ?? [];
    expect(stepLogs.length).toBeGreaterThan(0);
    expect(stepLogs.every((l) => l.correlationId === 'corr-e2e-deploy')).toBe(true);
    expect(
      planner?.lines.some(
        (l) => l.runId === submitted.body.runId && l.correlationId === 'corr-e2e-deploy',
      ),
    ).toBe(true);
    // Every line of the run, in every process, carries its correlation id and tenant; every line
    // of a job also its queue, job id and attempt (and a step's its step id).
    const runLines = fleet.processes.flatMap((p) =>
      p.lines.filter((l) => l.runId === submitted.body.runId),
    );
    expect(runLines.length).toBeGreaterThanOrEqual(3);
    for (const line of runLines) {
      expect(line, line.msg).toMatchObject({ correlationId: 'corr-e2e-deploy', tenantId: 'acme' });
      if (line.jobId !== undefined) {
        expect(line, line.msg).toMatchObject({
          queue: expect.stringMatching(/^agentry\./) as string,
          attempt: expect.any(Number) as number,
        });
      }
    }
    expect(stepLogs.every((l) => typeof l.jobId === 'string' && l.queue === 'agentry.step')).toBe(
      true,
    );
  });

  it('honours the idempotency key: a repeated submit returns the same run and plans once', async () => {
    const intent = { text: 'echo 2 steps', tenantId: 'acme', idempotencyKey: 'order-4711' };
    const first = await fleet.http<{ runId: string }>('POST', '/v1/runs', intent);
    const again = await fleet.http<{ runId: string; created: boolean }>('POST', '/v1/runs', intent);
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ runId: first.body.runId, created: false });
    await fleet.waitForRun(first.body.runId, (s) => s === 'succeeded');
    const { body } = await fleet.http<{ runs: unknown[] }>(
      'GET',
      '/v1/runs?tenantId=acme&limit=500',
    );
    expect(
      body.runs.filter((r) => (r as { idempotencyKey: string }).idempotencyKey === 'order-4711'),
    ).toHaveLength(1);
  });

  it('runs a plan job enqueued as raw BullMQ by a producer in another language', async () => {
    const queue = fleet.rawQueue('agentry.plan');
    try {
      await queue.add(
        'plan',
        { intent: { text: 'echo 3 steps', tenantId: 'polyglot' } },
        { jobId: 'from-python-1' },
      );
      const runId = stableUuid('plan-job:from-python-1');
      const detail = await fleet.waitForRun(runId, (s) => s === 'succeeded');
      expect(detail.steps.map((s) => s.stepId)).toEqual(['s1', 's2', 's3']);
    } finally {
      await queue.close();
    }
  });

  it('parks a dry run for approval, then runs it once approved; the decision is audited', async () => {
    const { body } = await fleet.http<{ runId: string }>('POST', '/v1/runs', {
      text: 'deploy build 9 to production',
      tenantId: 'acme',
      dryRun: true,
    });
    const parked = await fleet.waitForRun(body.runId, (s) => s === 'awaiting_approval');
    expect(parked.steps.every((s) => s.state === 'pending' && s.attempts === 0)).toBe(true);
    expect(parked.steps.find((s) => s.stepId === 'rollout')).toMatchObject({ tool: 'wait' });
    const planHash = parked.plan?.hash;
    const approved = await fleet.http('POST', `/v1/runs/${body.runId}/approve`, {
      actor: 'alice',
      reason: 'ok',
      planHash,
    });
    expect(approved.status).toBe(200);
    await fleet.waitForRun(body.runId, (s) => s === 'succeeded');
    const twice = await fleet.http<{ error: { code: string } }>(
      'POST',
      `/v1/runs/${body.runId}/approve`,
      { planHash },
    );
    expect(twice.status).toBe(409);
    const audit = await fleet.database.db
      .selectFrom('auditLog')
      .selectAll()
      .where('targetId', '=', body.runId)
      .execute();
    expect(audit).toEqual([expect.objectContaining({ actor: 'alice', action: 'run.approve' })]);
  });

  it('rejects a dry run with a reason', async () => {
    const { body } = await fleet.http<{ runId: string }>('POST', '/v1/runs', {
      text: 'echo 1 step',
      tenantId: 'acme',
      dryRun: true,
    });
    await fleet.waitForRun(body.runId, (s) => s === 'awaiting_approval');
    await fleet.http('POST', `/v1/runs/${body.runId}/reject`, {
      actor: 'bob',
      reason: 'not today',
    });
    const detail = await fleet.waitForRun(body.runId, (s) => s === 'rejected');
    expect(detail.run.error?.message).toMatch(/not today/);
  });

  it('fails a run whose step fails for good: dead letter, and earlier steps compensated in reverse', async () => {
    const { body } = await fleet.http<{ runId: string }>('POST', '/v1/runs', {
      text: 'failure drill',
      tenantId: 'acme',
    });
    const failed = await fleet.waitForRun(body.runId, (s) => s === 'failed');
    expect(failed.run.error?.code).toBeDefined();
    const third = failed.steps.find((s) => s.stepId === 'third');
    expect(third?.state).toBe('failed');
    const compensated = async () => (await fleet.waitForRun(body.runId, () => true)).steps;
    let steps: RunDetail['steps'] = [];
    for (let i = 0; i < 100; i++) {
      steps = await compensated();
      if (steps.filter((s) => s.state === 'compensated').length === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const first = steps.find((s) => s.stepId === 'first');
    const second = steps.find((s) => s.stepId === 'second');
    expect([first?.state, second?.state]).toEqual(['compensated', 'compensated']);
    expect(new Date(second?.compensatedAt ?? 0).getTime()).toBeLessThanOrEqual(
      new Date(first?.compensatedAt ?? 0).getTime(),
    );
    const letters = await fleet.http<{
      deadLetters: Array<{ jobId: string; stepId: string; errorCode: string }>;
    }>('GET', '/v1/dead-letters?queue=agentry.step');
    expect(letters.body.deadLetters).toContainEqual(
      expect.objectContaining({ jobId: jobIds.step(body.runId, 'third'), stepId: 'third' }),
    );
  });

  it('dead-letters an invalid raw BullMQ payload with its reason, and keeps processing', async () => {
    const queue = fleet.rawQueue('agentry.plan');
    try {
      await queue.add(
        'plan',
        { intent: { text: 42, tenantId: 'acme' }, surprise: true },
        { jobId: 'bad-payload-1' },
      );
      await queue.add('plan', 'not even an object', { jobId: 'bad-payload-2' });
      await queue.add(
        'plan',
        { intent: { text: 'echo 1 step', tenantId: 'acme' } },
        { jobId: 'good-after-bad' },
      );
      await fleet.waitForRun(stableUuid('plan-job:good-after-bad'), (s) => s === 'succeeded');
      const deadline = Date.now() + 10_000;
      let letters: Array<{ jobId: string; reason: string; errorCode: string; payload: unknown }> =
        [];
      while (Date.now() < deadline) {
        ({
          body: { deadLetters: letters },
        } = await fleet.http<{ deadLetters: typeof letters }>(
          'GET',
          '/v1/dead-letters?queue=agentry.plan',
        ));
        if (letters.filter((l) => l.jobId.startsWith('bad-payload')).length === 2) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const bad1 = letters.find((l) => l.jobId === 'bad-payload-1');
      expect(bad1).toMatchObject({ errorCode: 'VALIDATION' });
      expect(bad1?.reason).toMatch(/intent\.text/);
      expect(bad1?.reason).toMatch(/surprise/);
      expect(bad1?.payload).toEqual({ intent: { text: 42, tenantId: 'acme' }, surprise: true });
      expect(letters.find((l) => l.jobId === 'bad-payload-2')?.errorCode).toBe('VALIDATION');
    } finally {
      await queue.close();
    }
  });

  it('answers bad HTTP input with a clear 400 (kept as a dead letter) and oversized bodies with 413', async () => {
    const bad = await fleet.http<{
      error: { code: string; details: { issues: unknown[]; deadLetterId: string } };
    }>('POST', '/v1/runs', { text: '', tenantId: 'Not A Slug', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION');
    expect(bad.body.error.details.issues.length).toBeGreaterThanOrEqual(3);
    const kept = await fleet.http<{ payload: unknown; sourceQueue: string }>(
      'GET',
      `/v1/dead-letters/${bad.body.error.details.deadLetterId}`,
    );
    expect(kept.body).toMatchObject({
      sourceQueue: 'api',
      payload: { text: '', tenantId: 'Not A Slug', extra: 1 },
    });
    const malformed = await fleet.http('POST', '/v1/runs', '{"text": "unterminated');
    expect(malformed.status).toBe(400);
    const huge = await fleet.http('POST', '/v1/runs', {
      text: 'x'.repeat(70_000),
      tenantId: 'acme',
    });
    expect(huge.status).toBe(413);
    expect((await fleet.http('GET', '/v1/runs/not-a-uuid')).status).toBe(400);
    expect((await fleet.http('GET', `/v1/runs/${stableUuid('nobody')}`)).status).toBe(404);
  });

  it('serves health, readiness and metrics', async () => {
    expect((await fleet.http('GET', '/healthz')).status).toBe(200);
    const ready = await fleet.http<{ status: string; checks: Record<string, string> }>(
      'GET',
      '/readyz',
    );
    expect(ready.body).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
    let metrics = '';
    for (let i = 0; i < 50 && !metrics.includes('agentry_queue_jobs{'); i++) {
      metrics = await (await fetch(`${fleet.apiUrl}/metrics`)).text();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(metrics).toMatch(/process_cpu_user_seconds_total/);
    expect(metrics).toMatch(
      /agentry_queue_jobs\{[^}]*queue="agentry\.dlq"[^}]*state="waiting"[^}]*\} \d+/,
    );
  });
});
