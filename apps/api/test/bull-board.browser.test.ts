import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchSteps } from '@agentry/engine';
import {
  builtinTools,
  createExecutor,
  defineTool,
  loadExecutorConfig,
  type ExecutorApp,
} from '@agentry/executor';
import { AppError, jobIds, validatePlan } from '@agentry/schema';
import { z } from 'zod';
import { TestApi } from './support/test-api';

/** Debian's chromium (`apt-get install chromium`), or the one AGENTRY_TEST_CHROMIUM names. */
const chromiumPath = [process.env.AGENTRY_TEST_CHROMIUM, '/usr/bin/chromium'].find(
  (path): path is string => path !== undefined && existsSync(path),
);

const board = '/admin/queues';
const viewer = { username: 'viewer', password: 'browser-viewer-pass-1' };
const operator = { username: 'operator', password: 'browser-operator-pass-2' };

/** What `read` answers once it answers something, polled every 50 ms for at most 10 s. */
async function until<T>(read: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Bull Board in a real browser (chromium driven by playwright-core) against the real API: what
 * an unauthenticated visitor, a viewer and an operator can see and do. The failed job is a real
 * dead letter: a step job refused for good by the real worker runtime, captured into Postgres and
 * `agentry.dlq`; the same worker runs it again after the operator's retry.
 */
describe.skipIf(!chromiumPath)(
  `Bull Board in a browser${chromiumPath ? '' : ' (skipped: no chromium; apt-get install chromium, or set AGENTRY_TEST_CHROMIUM)'}`,
  () => {
    let api: TestApi;
    let browser: Browser | undefined;
    let executor: ExecutorApp | undefined;
    let runId: string;
    let stepJobId: string;
    let deadLetterJobId: string;
    let runs = 0;

    beforeAll(async () => {
      api = await TestApi.start({
        AGENTRY_BOARD_VIEWER_PASSWORD: viewer.password,
        AGENTRY_BOARD_OPERATOR_PASSWORD: operator.password,
      });
      const { body } = await api.http<{ runId: string }>('POST', '/v1/runs', {
        text: 'echo 1 step',
        tenantId: 'acme',
      });
      runId = body.runId;
      // A downstream that refuses the first call for good (a fatal code: no BullMQ retry) and
      // takes the second: the outage an operator waits out before retrying the dead letter.
      const flaky = defineTool({
        name: 'flaky',
        description: 'Refused for good once, then done (tests only).',
        input: z.strictObject({}),
        output: z.object({ ok: z.boolean() }),
        risk: 'low',
        run: () => {
          runs += 1;
          if (runs === 1) throw new AppError('POLICY_DENIED', 'drill: refused for good');
          return Promise.resolve({ ok: true });
        },
      });
      const { plan, order } = validatePlan(
        {
          source: 'template',
          producedBy: 'test',
          summary: 'flaky',
          steps: [{ id: 's1', tool: 'flaky' }],
        },
        new Set(['flaky']),
      );
      const { roots } = await api.services.repos.runs.savePlan(
        runId,
        { plan, order, hash: 'flaky-plan' },
        'running',
      );
      stepJobId = jobIds.step(runId, 's1');
      executor = await createExecutor(loadExecutorConfig(api.env), {
        services: api.services,
        health: false,
        tools: [...builtinTools({ http: {} }), flaky],
      });
      await executor.start();
      await dispatchSteps(
        api.services.engine,
        { id: runId, correlationId: 'corr-board', tenantId: 'acme' },
        roots,
      );
      const letter = await until(async () => {
        const [first] = await api.services.repos.deadLetters.list({ sourceQueue: 'agentry.step' });
        return first;
      });
      deadLetterJobId = jobIds.deadLetter(letter.id);
      // The dead letter is captured before BullMQ records the failure: wait for that too.
      await until(async () =>
        (await api.rawQueue('agentry.step').getJobState(stepJobId)) === 'failed' ? true : undefined,
      );

      browser = await chromium.launch({
        executablePath: chromiumPath,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
    });

    afterAll(async () => {
      try {
        await browser?.close();
      } finally {
        await executor?.close({ deadlineMs: 5_000 });
        await api?.close();
      }
    });

    /** A fresh browser profile; nothing but the API is reachable (the page links web fonts). */
    async function contextAs(
      credentials?: typeof viewer,
    ): Promise<BrowserContext & AsyncDisposable> {
      const context = await (browser as Browser).newContext(
        credentials ? { httpCredentials: credentials } : {},
      );
      await context.route(
        (url) => !url.href.startsWith(api.url),
        (route) => route.abort(),
      );
      return Object.assign(context, { [Symbol.asyncDispose]: () => context.close() });
    }

    /** Open the failed jobs of `agentry.step` and wait for the dead-lettered job to show. */
    async function openFailedSteps(page: Page): Promise<void> {
      await page.goto(`${api.url}${board}/queue/agentry.step?status=failed`);
      await page.getByText(stepJobId, { exact: true }).first().waitFor();
    }

    /** The status `PUT …/retry` answers from inside the page (with the browser's credentials). */
    const retryFromPage = (page: Page) =>
      page.evaluate(
        (url) => fetch(url, { method: 'PUT' }).then((r) => r.status),
        `${api.url}${board}/api/queues/agentry.step/${stepJobId}/retry`,
      );

    /** The board's audit events of `actor`: action, target type, target id and status. */
    const auditedBy = async (actor: string) =>
      (await api.services.repos.audit.list())
        .filter((a) => a.actor === actor)
        .map((a) => [a.action, a.targetType, a.targetId, a.details.status]);

    it('answers an unauthenticated browser 401 and shows no queue data', async () => {
      await using context = await contextAs();
      const page = await context.newPage();
      for (const path of [board, `${board}/queue/agentry.step`, `${board}/api/queues`]) {
        const url = `${api.url}${path}`;
        const answered = page.waitForResponse((r) => r.url() === url);
        const navigation = await page.goto(url).then(
          () => 'loaded',
          (e: Error) => e.message,
        );
        const answer = await answered;
        expect(answer.status(), path).toBe(401);
        expect(answer.headers()['www-authenticate']).toBe('Basic realm="agentry"');
        // With no login to give, the browser stops there, as when a user cancels the dialog.
        expect(navigation).toMatch(/ERR_INVALID_AUTH_CREDENTIALS/);
        // (Chromium is busy showing its error page for a moment: read the page once it is shown.)
        const shown = await until(() => page.content().catch(() => undefined));
        expect(shown).not.toMatch(/agentry\.(plan|step|dlq)/);
        expect(shown).not.toContain(stepJobId);
      }
      expect(await api.rawQueue('agentry.step').getJobState(stepJobId)).toBe('failed');
    });

    it('shows a viewer every queue and the dead letter, offers no retry, and refuses one with 403', async () => {
      await using context = await contextAs(viewer);
      const page = await context.newPage();
      await openFailedSteps(page);
      const sidebar = page.locator('#bull-board-sidebar');
      for (const name of ['agentry.plan', 'agentry.step', 'agentry.dlq']) {
        await expect.poll(() => sidebar.getByText(name, { exact: true }).count()).toBe(1);
      }
      // Read-only: no job actions, no "Retry all" / "Clean all".
      expect(await page.locator('ul[class*="jobActions"] button').count()).toBe(0);
      expect(await page.getByRole('button', { name: /retry/i }).count()).toBe(0);
      expect(await page.getByRole('button', { name: /clean/i }).count()).toBe(0);

      expect(await retryFromPage(page)).toBe(403);
      expect(await api.rawQueue('agentry.step').getJobState(stepJobId)).toBe('failed');
      // The refused attempt is on record.
      await expect
        .poll(() => auditedBy('board:viewer'))
        .toEqual([['board.retry', 'job', `agentry.step/${stepJobId}`, 403]]);

      await page.goto(`${api.url}${board}/queue/agentry.dlq?status=waiting`);
      await page.getByText(deadLetterJobId, { exact: true }).first().waitFor();
    });

    it('lets an operator retry the dead-lettered step from the UI: it runs again, and the retry is audited', async () => {
      await using context = await contextAs(operator);
      const page = await context.newPage();
      await openFailedSteps(page);

      // Bull Board's job actions are icon buttons named by a tooltip: find the one saying Retry.
      const actions = page.locator('ul[class*="jobActions"] li button');
      let retry: ReturnType<typeof actions.nth> | undefined;
      for (let i = 0; i < (await actions.count()) && !retry; i++) {
        await actions.nth(i).hover();
        const tip = page.getByText('Retry', { exact: true });
        const shown = await tip.waitFor({ timeout: 1_500 }).then(
          () => true,
          () => false,
        );
        if (shown) retry = actions.nth(i);
      }
      expect(retry, 'a Retry button on the failed job').toBeDefined();
      await retry?.click();
      const answered = page.waitForResponse(
        (r) => r.request().method() === 'PUT' && r.url().endsWith(`/${stepJobId}/retry`),
      );
      await page.getByRole('alertdialog').getByRole('button', { name: 'Confirm' }).click();
      expect((await answered).status()).toBe(204);

      // The executor takes it again and, this time, completes it: the failed run resumes from
      // that step and proceeds to its end; the dead letter is marked replayed.
      const queue = api.rawQueue('agentry.step');
      await expect.poll(() => queue.getJobState(stepJobId), { timeout: 10_000 }).toBe('completed');
      expect(runs).toBe(2);
      await expect
        .poll(async () => (await api.services.repos.runs.get(runId))?.state, { timeout: 10_000 })
        .toBe('succeeded');
      const [letter] = await api.services.repos.deadLetters.list({
        sourceQueue: 'agentry.step',
        includeReplayed: true,
      });
      expect(letter?.replayedAt).toBeInstanceOf(Date);

      await expect
        .poll(() => auditedBy('board:operator'))
        .toEqual([['board.retry', 'job', `agentry.step/${stepJobId}`, 204]]);
    });
  },
);
