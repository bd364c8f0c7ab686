import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, defineTool, type ExecutorApp } from '../src';
import {
  deadLettersOf,
  executorConfig,
  openTestFleet,
  postgresText,
  redisText,
  runReaches,
  startRun,
  type TestFleet,
} from './support';

/**
 * A tool that fails with a resolved secret in its error (as a careless client library would):
 * the value is scrubbed before the step row, the dead letter, BullMQ's failure record in Redis
 * and the log see it.
 */
const canary = 'leak-canary-0001-not-a-secret';
let fleet: TestFleet;
let executor: ExecutorApp;

beforeAll(async () => {
  const file = join(await mkdtemp(join(tmpdir(), 'agentry-scrub-')), 'db-password');
  await writeFile(file, `${canary}\n`);
  fleet = await openTestFleet('scrub-errors');
  const leaky = defineTool({
    name: 'leaky.connect',
    description: 'Fails quoting the password it used (tests only).',
    input: z.strictObject({}),
    output: z.object({}),
    risk: 'low',
    async run() {
      const password = await fleet.services.secrets.get(`file://${file}`);
      const error = new Error(`authentication failed for user app with password ${password}`);
      throw Object.assign(error, { detail: { password } });
    },
  });
  executor = await createExecutor(executorConfig(fleet), {
    services: fleet.services,
    health: false,
    tools: [leaky],
  });
  await executor.start();
});
afterAll(async () => {
  await executor?.close({ deadlineMs: 2_000 });
  await fleet?.close();
});

describe('errors are scrubbed before anything records them', () => {
  it('a failing, dead-lettered step leaves the value in no row, key or log line', async () => {
    const { runId } = await startRun(fleet, [
      { id: 'connect', tool: 'leaky.connect', input: {}, maxAttempts: 2 },
    ]);
    await runReaches(fleet, runId, 'failed');
    await expect.poll(async () => (await deadLettersOf(fleet, runId)).length).toBeGreaterThan(0);
    const [letter] = await deadLettersOf(fleet, runId);
    expect(JSON.stringify(letter)).toContain('authentication failed for user app with password');

    const places = {
      postgres: await postgresText(fleet),
      redis: await redisText(`{${fleet.env.AGENTRY_QUEUE_PREFIX}}`),
      logs: JSON.stringify(fleet.logs),
    };
    for (const [place, text] of Object.entries(places)) {
      expect(text.includes(canary), `${place} holds the value`).toBe(false);
    }
    expect(places.postgres).toContain('[secret]');
  });
});
