import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobType, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlmServer, type FakeLlmServer } from '@agentry/llm/testing';
import { jobIds, runIdForPlanJob } from '@agentry/schema';
import { Redis } from 'ioredis';
import { TestFleet } from '../support/fleet';
import type { FleetProcess } from '../support/fleet-process';
import { ChaosApi, terminalRunStates, type DeadLetter, type ErrorAnswer } from './bad-input-api';
import {
  badTemplatePlans,
  nulText,
  oddTexts,
  rawJobs,
  refusedSubmissions,
  ssrfCases,
  templates,
  type SsrfCase,
} from './bad-input-cases';
import { findSecretValues } from './support/secret-scan';
import {
  loopbackHostNames,
  startOrigin,
  startSentinel,
  type Origin,
  type Sentinel,
} from './bad-input-servers';

/**
 * Fault scenario 10 — bad input. Oversized, malformed, mistyped and odd-Unicode submissions over
 * HTTP; malformed raw BullMQ jobs; plans naming unknown tools or forming cycles (from a templates
 * file and from a model); SSRF targets from plan steps, directly and through redirects. Against
 * the real planner, executor and API processes, with the production egress policy
 * (`AGENTRY_HTTP_ALLOW_PRIVATE=false`), an API token and a webhook signing key given as secret
 * references. Each input is refused with a clear reason and kept for inspection; a sentinel on
 * loopback sees no connection; every run ends terminal, the queues drain, the processes stay up
 * and no secret value reaches a log line.
 */

const secrets = {
  apiToken: `chaos-token-${randomBytes(16).toString('hex')}`,
  signingKey: `chaos-signing-${randomBytes(16).toString('hex')}`,
  llmKey: `chaos-llm-${randomBytes(16).toString('hex')}`,
  /** The password in the userinfo of one SSRF case's URL. */
  urlPassword: `chaos-url-${randomBytes(8).toString('hex')}`,
};

/** The loopback address of the one allowlisted origin of the redirect cases (not the sentinel's). */
const originHost = '127.0.0.2';

/** Job states that mean work is not finished (BullMQ 6 has no per-job `paused`). */
const blocked: JobType[] = ['active', 'waiting', 'delayed', 'prioritized', 'waiting-children'];

describe('chaos: bad input is refused with a clear reason and kept', () => {
  let fleet: TestFleet;
  let api: ChaosApi;
  let sentinel: Sentinel;
  let origin: Origin;
  let fake: FakeLlmServer;
  let dir: string;
  let planner: FleetProcess;
  let executor: FleetProcess;
  let apiProcess: FleetProcess;
  let queues: { plan: Queue; step: Queue; dlq: Queue };
  const counts = {
    inputs: 0,
    refusedAtApi: 0,
    acceptedOddUnicode: 0,
    rawJobsDeadLettered: 0,
    badPlansRefused: 0,
    ssrfRefused: 0,
    redirectsRefused: 0,
    modelPlansRefused: 0,
  };
  const matrix: Array<{ input: string; answer: string }> = [];
  const note = (input: string, answer: string): void => {
    counts.inputs += 1;
    matrix.push({ input, answer });
  };

  let startedAt = 0;

  beforeAll(async () => {
    startedAt = Date.now();
    sentinel = await startSentinel();
    origin = await startOrigin(originHost);
    fake = await startFakeLlmServer({ apiKey: secrets.llmKey });
    dir = await mkdtemp(join(tmpdir(), 'agentry-bad-input-'));
    const templatesFile = join(dir, 'templates.json');
    await writeFile(templatesFile, JSON.stringify(templates));
    fleet = await TestFleet.create({
      AGENTRY_API_TOKEN: 'env://CHAOS_API_TOKEN',
      CHAOS_API_TOKEN: secrets.apiToken,
      AGENTRY_WEBHOOK_SIGNING_KEY_REF: 'env://CHAOS_SIGNING_KEY',
      CHAOS_SIGNING_KEY: secrets.signingKey,
      CHAOS_LLM_KEY: secrets.llmKey,
      // The production egress policy, spelled out so a developer's shell cannot loosen it.
      AGENTRY_HTTP_ALLOW_PRIVATE: 'false',
      AGENTRY_HTTP_ALLOW_HOSTS: '',
      AGENTRY_PLANNER_TEMPLATES_FILE: templatesFile,
    });
    ({ planner, executor, api: apiProcess } = await fleet.startAll());
    api = new ChaosApi(fleet.apiUrl, secrets.apiToken);
    queues = {
      plan: fleet.rawQueue('agentry.plan'),
      step: fleet.rawQueue('agentry.step'),
      dlq: fleet.rawQueue('agentry.dlq'),
    };
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(Object.values(queues ?? {}).map((q) => q.close()));
    await fleet?.close();
    await Promise.allSettled([sentinel?.close(), origin?.close(), fake?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  const countRuns = async (): Promise<number> => {
    const row = await fleet.database.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };

  const submit = async (body: Record<string, unknown>): Promise<string> => {
    const res = await api.send<{ runId: string }>('POST', '/v1/runs', { json: body });
    expect(res.status, res.text).toBe(202);
    return res.body.runId;
  };

  it('answers bad submissions with a 4xx naming what is wrong, keeps them, enqueues nothing', async () => {
    const runsBefore = await countRuns();
    const keptBefore = (await api.deadLetters('api')).length;
    let kept = 0;
    for (const c of refusedSubmissions()) {
      const res = await api.send<ErrorAnswer>('POST', '/v1/runs', c.body);
      const issues = res.body?.error.details?.issues ?? [];
      note(
        `API ${c.name}`,
        `${res.status} ${res.body?.error.code} "${res.body?.error.message}" ${issues
          .map((i) => `${i.path.join('.') || '(body)'}:${i.code}`)
          .join(', ')}${res.body?.error.details?.deadLetterId ? ' kept' : ''}`,
      );
      expect(res.status, c.name).toBe(c.status);
      expect(res.body.error.code, c.name).toBe('VALIDATION');
      expect(res.body.error.message, c.name).toMatch(c.message);
      for (const path of c.paths ?? [])
        expect(
          issues.map((i) => i.path.join('.')),
          c.name,
        ).toContain(path);
      if (c.issueCode)
        expect(
          issues.map((i) => i.code),
          c.name,
        ).toContain(c.issueCode);
      if (c.issueMessage)
        expect(JSON.stringify(issues.map((i) => i.message)), c.name).toMatch(c.issueMessage);
      counts.refusedAtApi += 1;
      const deadLetterId = res.body.error.details?.deadLetterId;
      expect(deadLetterId, c.name).toEqual(expect.any(String));
      if (c.status === 413) {
        // Above 64 KiB the body is not read nor stored (a size attack would fill the database):
        // the refusal is kept, with the size and type that were sent.
        const letter = await api.send<DeadLetter>('GET', `/v1/dead-letters/${deadLetterId}`);
        expect(letter.body, c.name).toMatchObject({
          sourceQueue: 'api',
          errorCode: 'VALIDATION',
          payload: {
            refused: 'body too large',
            contentLength: expect.any(Number) as number,
            contentType: 'application/json',
          },
        });
        kept += 1;
        continue;
      }
      const letter = await api.send<DeadLetter & { error: ErrorAnswer['error'] }>(
        'GET',
        `/v1/dead-letters/${deadLetterId}`,
      );
      expect(letter.body, c.name).toMatchObject({
        sourceQueue: 'api',
        jobName: 'submit',
        errorCode: 'VALIDATION',
        reason: expect.stringMatching(c.message) as string,
      });
      expect(letter.body.error.details?.issues?.length, c.name).toBeGreaterThan(0);
      if (c.kept !== undefined) expect(letter.body.payload, c.name).toEqual(c.kept);
      kept += 1;
    }
    // Refused means refused: no run row, no plan job; one dead letter per 400 and 413.
    expect(await countRuns()).toBe(runsBefore);
    expect(await queues.plan.getJobCountByTypes('completed', 'failed', ...blocked)).toBe(0);
    expect((await api.deadLetters('api')).length).toBe(keptBefore + kept);
    expect(sentinel.connections).toEqual([]);
  });

  it('accepts odd but valid Unicode and stores it exactly as sent', async () => {
    const cases = oddTexts();
    const runIds = await Promise.all(
      cases.map((c) =>
        submit({ text: c.text, tenantId: 'acme', ...(c.metadata && { metadata: c.metadata }) }),
      ),
    );
    for (const [i, c] of cases.entries()) {
      const detail = await api.waitForRun(runIds[i] as string);
      note(`API odd Unicode: ${c.name}`, `202, run ${detail.run.state}, text stored exactly`);
      expect(detail.run.intent.text, c.name).toBe(c.text);
      expect(detail.run.intent.text.length, c.name).toBe(c.text.length);
      if (c.metadata) expect(detail.run.intent.metadata, c.name).toEqual(c.metadata);
      expect(detail.run.state, c.name).toBe('succeeded');
      counts.acceptedOddUnicode += 1;
    }

    // A NUL inside the text cannot be stored (jsonb): refused rather than silently altered.
    const nul = await api.send<{ runId: string } & ErrorAnswer>('POST', '/v1/runs', {
      json: { text: nulText, tenantId: 'acme' },
    });
    note('API NUL inside the text', `${nul.status}`);
    expect(nul.status).toBe(400);
    expect(nul.body.error.code).toBe('VALIDATION');
    expect(JSON.stringify(nul.body.error.details?.issues)).toMatch(/NUL character/);
  });

  it('dead-letters malformed raw BullMQ jobs with the reason and the original payload, and keeps working', async () => {
    const jobs = rawJobs();
    const queueOf = (name: 'agentry.plan' | 'agentry.step') =>
      name === 'agentry.plan' ? queues.plan : queues.step;
    for (const j of jobs) {
      // As the published catalog says a producer should: 5 attempts, exponential backoff.
      const queue = queueOf(j.queue);
      await queue.pause();
      await queue.add(j.jobName, j.data, {
        jobId: j.jobId,
        attempts: 5,
        backoff: { type: 'exponential', delay: 1_000 },
      });
      if (j.hashData !== undefined) {
        const redis = new Redis(fleet.redisUrl);
        await redis.hset(`${fleet.prefix}:${j.queue}:${j.jobId}`, 'data', j.hashData);
        await redis.quit();
      }
      await queue.resume();
    }
    // Good work queued behind the bad jobs still runs: on the plan queue, and on the step queue.
    await queues.plan.add(
      'plan',
      { intent: { text: 'echo 2 steps', tenantId: 'polyglot' } },
      {
        jobId: 'bi-plan-good-after',
      },
    );
    const good = await api.waitForRun(runIdForPlanJob('bi-plan-good-after', undefined));
    expect(good.run.state).toBe('succeeded');
    expect(good.steps.map((s) => s.state)).toEqual(['succeeded', 'succeeded']);

    for (const j of jobs) {
      const letter = await api.waitForDeadLetter(j.queue, j.jobId);
      note(`raw ${j.name}`, `dead-lettered ${letter.errorCode}: ${letter.reason}`);
      const errorCode = j.errorCode ?? 'VALIDATION';
      expect(letter, j.name).toMatchObject({ jobName: j.jobName, errorCode });
      expect(letter.reason, j.name).toMatch(j.reason);
      expect(letter.payload, j.name).toEqual(j.kept);
      // Not retried, although the producer allowed 5 attempts.
      expect(letter.attempts, j.name).toBe(1);
      const job = await queueOf(j.queue).getJob(j.jobId);
      expect(await job?.getState(), j.name).toBe('failed');
      expect(job?.attemptsMade, j.name).toBe(1);
      expect(job?.failedReason, j.name).toMatch(`[${errorCode}] `);
      // The agentry.dlq job names the dead letter; the payload itself is kept in Postgres only.
      const dlqJob = await queues.dlq.getJob(jobIds.deadLetter(letter.id));
      expect(dlqJob?.data, j.name).toMatchObject({
        deadLetterId: letter.id,
        sourceQueue: j.queue,
        jobId: j.jobId,
        jobName: j.jobName,
        reason: letter.reason,
        errorCode,
        attempts: 1,
      });
      expect(dlqJob?.data, j.name).not.toHaveProperty('payload');
      if (j.queue === 'agentry.plan')
        expect((await api.run(runIdForPlanJob(j.jobId, undefined))).status, j.name).toBe(404);
      counts.rawJobsDeadLettered += 1;
    }
    const after = await api.waitForRun(await submit({ text: 'echo 3 steps', tenantId: 'acme' }));
    expect(after.run.state).toBe('succeeded');
  });

  it('fails runs whose template plan names an unknown tool or forms a cycle, running nothing', async () => {
    const runIds = await Promise.all(
      badTemplatePlans.map((c) => submit({ text: c.text, tenantId: 'acme' })),
    );
    for (const [i, c] of badTemplatePlans.entries()) {
      const runId = runIds[i] as string;
      const detail = await api.waitForRun(runId);
      note(
        `template plan: ${c.name}`,
        `run ${detail.run.state} ${detail.run.error?.code} "${detail.run.error?.message}"`,
      );
      expect(detail.run.state, c.name).toBe('failed');
      expect(detail.run.error, c.name).toMatchObject({ code: c.code });
      expect(detail.run.error?.message, c.name).toMatch(c.message);
      // Nothing stored, nothing executed.
      expect(detail.plan, c.name).toBeNull();
      expect(detail.steps, c.name).toEqual([]);
      const letter = await api.waitForDeadLetter('agentry.plan', jobIds.plan(runId));
      expect(letter, c.name).toMatchObject({ runId, errorCode: c.code, attempts: 1 });
      expect(letter.reason, c.name).toMatch(c.message);
      counts.badPlansRefused += 1;
    }
  });

  /** Submit SSRF cases at once; each run fails at its calling step, refused before connecting. */
  const expectRefused = async (cases: SsrfCase[], label: string): Promise<void> => {
    const runIds = await Promise.all(cases.map((c) => submit({ text: c.text, tenantId: 'acme' })));
    for (const [i, c] of cases.entries()) {
      const runId = runIds[i] as string;
      const detail = await api.waitForRun(runId);
      note(
        `${label}: ${c.name}`,
        `run ${detail.run.state} ${detail.run.error?.code} "${detail.run.error?.message}"`,
      );
      expect(detail.run.state, c.name).toBe('failed');
      expect(detail.run.error?.code, c.name).toBe(c.code);
      expect(detail.run.error?.message, c.name).toMatch(c.reason);
      const step = detail.steps.find((s) => s.stepId === c.stepId);
      expect(step, c.name).toMatchObject({ tool: c.tool, state: 'failed', attempts: 1 });
      expect(step?.error?.code, c.name).toBe(c.code);
      for (const other of detail.steps.filter((s) => s.stepId !== c.stepId))
        expect(other, c.name).toMatchObject({ state: 'cancelled', attempts: 0 });
      const letter = await api.waitForDeadLetter('agentry.step', jobIds.step(runId, c.stepId));
      expect(letter, c.name).toMatchObject({ runId, stepId: c.stepId, errorCode: c.code });
    }
  };

  it('refuses SSRF targets of http.request and webhook.notify steps before any connection', async () => {
    const cases = ssrfCases(sentinel, await loopbackHostNames(), secrets.urlPassword);
    await expectRefused(cases, 'SSRF');
    counts.ssrfRefused += cases.length;
    expect(sentinel.connections).toEqual([]);
  });

  it('refuses redirects from an allowlisted origin to internal addresses', async () => {
    // The only way to have an origin the guard lets through on a machine without a network: an
    // exact allowlist entry for one loopback address (127.0.0.2) — which also makes every other
    // name fail the allowlist (before DNS), while literal addresses are still classified first.
    const next = fleet.start('executor', { AGENTRY_HTTP_ALLOW_HOSTS: origin.host });
    await executor.stop();
    executor = next;
    await executor.waitForLog((l) => l.msg === 'executor started');

    // The allowlisted origin is reachable, so what follows is refused for its target alone.
    const control = await api.waitForRun(
      await submit({ text: `check ${origin.url}/ok`, tenantId: 'acme' }),
    );
    expect(control.run.state).toBe('succeeded');
    const hook = await api.waitForRun(
      await submit({ text: `notify ${origin.url}/hook`, tenantId: 'acme' }),
    );
    expect(hook.run.state).toBe('succeeded');
    const delivered = origin.requests.find((r) => r.url === '/hook');
    // Signed with the key from the secret reference: the secret is in use in this fleet.
    expect(delivered?.headers['x-agentry-signature']).toBe(
      `sha256=${createHmac('sha256', secrets.signingKey)
        .update(delivered?.body ?? '')
        .digest('hex')}`,
    );

    const s = sentinel.port;
    const via = (name: string, target: string, reason: RegExp): SsrfCase => ({
      name,
      text: `check ${origin.redirectTo(target)}`,
      stepId: 'request',
      tool: 'http.request',
      code: 'POLICY_DENIED',
      reason,
    });
    const cases: SsrfCase[] = [
      via('302 to 127.0.0.1', `http://127.0.0.1:${s}/`, /loopback address 127\.0\.0\.1$/),
      ...(sentinel.port6 === undefined
        ? []
        : [via('302 to [::1]', `http://[::1]:${sentinel.port6}/`, /loopback address ::1$/)]),
      via(
        '302 to the metadata address',
        'http://169.254.169.254/latest/meta-data/',
        /link-local address 169\.254\.169\.254$/,
      ),
      via('302 to decimal 2130706433', `http://2130706433:${s}/`, /loopback address 127\.0\.0\.1$/),
      via(
        '302 to [::ffff:127.0.0.1]',
        `http://[::ffff:127.0.0.1]:${s}/`,
        /\(IPv4-mapped 127\.0\.0\.1\)$/,
      ),
      via('302 to 10.0.0.1', 'http://10.0.0.1/', /private address 10\.0\.0\.1$/),
      via('302 to localhost', `http://localhost:${s}/`, /^host localhost is not on the allowlist$/),
      via(
        '302 to a same-origin 302 to 127.0.0.1',
        `/redirect?to=${encodeURIComponent(`http://127.0.0.1:${s}/`)}`,
        /loopback address 127\.0\.0\.1$/,
      ),
    ];
    const before = origin.requests.length;
    await expectRefused(cases, 'redirect');
    // Every first hop reached the origin (the two-hop case twice); no later hop left it.
    expect(origin.requests.length - before).toBe(cases.length + 1);

    // webhook.notify does not follow redirects at all.
    const webhook = await api.waitForRun(
      await submit({
        text: `notify ${origin.redirectTo(`http://127.0.0.1:${s}/hook`)}`,
        tenantId: 'acme',
      }),
    );
    note(
      'redirect: webhook.notify answered 302',
      `run ${webhook.run.state} ${webhook.run.error?.code} "${webhook.run.error?.message}"`,
    );
    expect(webhook.run.state).toBe('failed');
    expect(webhook.run.error).toMatchObject({ code: 'TOOL_FAILED' });
    expect(webhook.run.error?.message).toBe('redirects are not followed');
    expect(webhook.steps[0]).toMatchObject({ state: 'failed', attempts: 1 });
    counts.redirectsRefused += cases.length + 1;
    expect(sentinel.connections).toEqual([]);
  });

  it('never runs a model plan that is invalid, and refuses the SSRF target of a valid one', async () => {
    const next = fleet.start('planner', {
      AGENTRY_LLM_PROVIDER: 'openai',
      AGENTRY_LLM_MODEL: 'fake-model',
      AGENTRY_LLM_BASE_URL: `${fake.url}/v1`,
      AGENTRY_LLM_API_KEY_REF: 'env://CHAOS_LLM_KEY',
      AGENTRY_LLM_BACKOFF_INITIAL_MS: '20',
      AGENTRY_LLM_BACKOFF_MAX_MS: '200',
    });
    await planner.stop();
    planner = next;
    await planner.waitForLog((l) => l.msg === 'planner started');

    // An unknown tool, twice (the answer and its repair): no template matches, so the safe
    // fallback plan waits for a person, who rejects it.
    fake.script({ kind: 'unknown-tool' }, { kind: 'unknown-tool' });
    const unknown = await api.waitForRun(
      await submit({ text: 'tell the on-call team the build is green', tenantId: 'acme' }),
      (s) => s === 'awaiting_approval',
    );
    note(
      'model plan: unknown tool (twice)',
      `run ${unknown.run.state}, hops ${JSON.stringify(unknown.run.planning?.hops.map((h) => [h.planner, h.outcome, h.code]))}`,
    );
    expect(unknown.run.planning?.hops.map((h) => [h.planner, h.outcome, h.code])).toEqual([
      ['llm:openai:fake-model', 'skipped', 'PLAN_INVALID'],
      ['template', 'skipped', 'NOT_FOUND'],
      ['fallback', 'planned', undefined],
    ]);
    expect(unknown.run.planning?.hops[0]?.reason).toMatch(/plan failed validation/);
    expect(unknown.llmCalls.map((c) => c.outcome)).toEqual(['invalid', 'invalid']);
    expect(unknown.plan?.producedBy).toBe('fallback:needs-approval');
    expect(unknown.steps.map((s) => [s.tool, s.state, s.attempts])).toEqual([
      ['echo', 'pending', 0],
    ]);
    const rejected = await api.send('POST', `/v1/runs/${unknown.run.id}/reject`, {
      json: { actor: 'chaos', reason: 'the model could not plan it' },
    });
    expect(rejected.status).toBe(200);
    expect((await api.waitForRun(unknown.run.id)).run.state).toBe('rejected');

    // A cycle, twice: the template the intent matches plans it instead.
    const cycle = {
      summary: 'loop',
      steps: [
        { id: 'a', tool: 'echo', input: { message: 'a' }, dependsOn: ['b'] },
        { id: 'b', tool: 'echo', input: { message: 'b' }, dependsOn: ['a'] },
      ],
    };
    fake.script({ kind: 'ok', content: cycle }, { kind: 'ok', content: cycle });
    const cyclic = await api.waitForRun(await submit({ text: 'echo 2 steps', tenantId: 'acme' }));
    note(
      'model plan: a cycle (twice)',
      `run ${cyclic.run.state}, hops ${JSON.stringify(cyclic.run.planning?.hops.map((h) => [h.planner, h.outcome, h.code]))}`,
    );
    expect(cyclic.run.planning?.hops.map((h) => [h.planner, h.outcome, h.code])).toEqual([
      ['llm:openai:fake-model', 'skipped', 'PLAN_INVALID'],
      ['template', 'planned', undefined],
    ]);
    expect(cyclic.plan?.producedBy).toBe('template:echo-chain');
    expect(cyclic.steps.map((s) => [s.stepId, s.state])).toEqual([
      ['s1', 'succeeded'],
      ['s2', 'succeeded'],
    ]);
    counts.modelPlansRefused += 2;

    // A valid plan whose step targets internal addresses: planned, then refused by the executor.
    const metadata = 'http://169.254.169.254/latest/meta-data/iam/security-credentials/';
    const ssrfPlan = (url: string) => ({
      kind: 'ok' as const,
      content: {
        summary: 'look around',
        steps: [{ id: 'look', tool: 'http.request', input: { url } }],
      },
    });
    for (const [url, reason] of [
      [metadata, /link-local address 169\.254\.169\.254$/],
      [`http://0x7f000001:${sentinel.port}/admin`, /loopback address 127\.0\.0\.1$/],
    ] as const) {
      fake.script(ssrfPlan(url));
      const detail = await api.waitForRun(
        await submit({ text: `find out what ${url} says`, tenantId: 'acme' }),
      );
      note(
        `model plan: http.request to ${url}`,
        `run ${detail.run.state} ${detail.run.error?.code} "${detail.run.error?.message}"`,
      );
      expect(detail.plan).toMatchObject({ source: 'llm', producedBy: 'openai:fake-model' });
      expect(detail.run.state).toBe('failed');
      expect(detail.run.error?.code).toBe('POLICY_DENIED');
      expect(detail.run.error?.message).toMatch(reason);
      expect(detail.steps).toEqual([
        expect.objectContaining({ stepId: 'look', state: 'failed', attempts: 1 }),
      ]);
      counts.ssrfRefused += 1;
    }
    expect(fake.stats().scripted).toBe(0);
    expect(sentinel.connections).toEqual([]);
  });

  it('leaves every run terminal, the queues drained, the fleet up and no secret in any log', async () => {
    const runs = await fleet.database.db.selectFrom('runs').select(['id', 'state']).execute();
    const byState: Record<string, number> = {};
    for (const r of runs) byState[r.state] = (byState[r.state] ?? 0) + 1;
    expect(runs.filter((r) => !terminalRunStates.has(r.state))).toEqual([]);

    // Compensation jobs of the failed runs may still be finishing: wait for the queues to drain.
    const open = async () => ({
      plan: await queues.plan.getJobCounts(...blocked),
      step: await queues.step.getJobCounts(...blocked),
    });
    const deadline = Date.now() + 10_000;
    let left = await open();
    while (
      [...Object.values(left.plan), ...Object.values(left.step)].some((n) => n > 0) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 100));
      left = await open();
    }
    for (const q of [left.plan, left.step])
      expect(q).toEqual(Object.fromEntries(blocked.map((s) => [s, 0])));

    // Every dead letter of a queue is announced on agentry.dlq (kept there for inspection).
    const queueLetters = [
      ...(await api.deadLetters('agentry.plan')),
      ...(await api.deadLetters('agentry.step')),
    ];
    const dlq = await queues.dlq.getJobCounts('waiting', 'active', 'failed', 'completed');
    expect((dlq.waiting ?? 0) + (dlq.completed ?? 0)).toBe(queueLetters.length);
    expect({ active: dlq.active, failed: dlq.failed }).toEqual({ active: 0, failed: 0 });
    const apiLetters = await api.deadLetters('api');
    // Every failed run has its dead letter: its plan job's, or its failing step's.
    const lettered = new Set(queueLetters.map((l) => l.runId));
    expect(runs.filter((r) => r.state === 'failed' && !lettered.has(r.id))).toEqual([]);

    // The processes that run now are alive and ready; the ones replaced exited cleanly.
    const live = [planner, executor, apiProcess];
    for (const p of fleet.processes.filter((p) => !live.includes(p)))
      expect(await p.exited).toEqual({ code: 0, signal: null });
    expect((await fetch(`${fleet.apiUrl}/readyz`)).status).toBe(200);
    for (const p of [planner, executor]) {
      const { port } = await p.waitForLog((l) => l.msg === 'health server listening');
      const ready = await fetch(`http://127.0.0.1:${String(port)}/readyz`);
      expect(ready.status, p.app).toBe(200);
    }

    // No secret value in any log line of any process (the replaced ones included); the
    // configured ones nowhere else either: rows, dead letters, Redis values, metrics. The password
    // of the SSRF case with credentials in its URL is the user's own input: it is stored with the
    // intent, but must not be logged.
    expect(fleet.processes.every((p) => p.lines.length > 0)).toBe(true);
    const { leaks, scanned } = await findSecretValues(fleet, secrets, {
      logsOnly: ['urlPassword'],
    });
    expect(leaks).toEqual([]);
    expect(sentinel.connections).toEqual([]);

    if (process.env.AGENTRY_CHAOS_MATRIX)
      for (const row of matrix) console.log(`${row.input}\t→ ${row.answer}`);
    console.log(
      JSON.stringify({
        chaos: 'bad-input',
        inputsTried: counts.inputs,
        refusedAtApi: counts.refusedAtApi,
        acceptedOddUnicode: counts.acceptedOddUnicode,
        deadLettered: {
          api: apiLetters.length,
          plan: queueLetters.filter((l) => l.sourceQueue === 'agentry.plan').length,
          step: queueLetters.filter((l) => l.sourceQueue === 'agentry.step').length,
        },
        rawJobsDeadLettered: counts.rawJobsDeadLettered,
        badPlansRefused: counts.badPlansRefused + counts.modelPlansRefused,
        ssrfRefused: counts.ssrfRefused,
        redirectsRefused: counts.redirectsRefused,
        runs: { total: runs.length, ...byState },
        sentinelConnections: sentinel.connections.length,
        placesScannedForSecrets: scanned,
        seconds: Math.round((Date.now() - startedAt) / 100) / 10,
      }),
    );
  });
});
