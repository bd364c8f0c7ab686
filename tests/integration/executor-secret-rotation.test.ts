import { startFakeLlmServer, type FakeLlmServer } from '@agentry/llm/testing';
import { commonEnv, parseEnv, toCommonConfig } from '@agentry/schema';
import { openSecretStore } from '@agentry/secrets';
import { startFakeAwsSecretsManager, type FakeAwsSecretsManager } from '@agentry/secrets/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, loadApiConfig } from '@agentry/api';
import { createExecutor, type ExecutorApp } from '@agentry/executor';
import {
  deadLettersOf,
  executorConfig,
  openTestFleet,
  postgresText,
  redisText,
  runReaches,
  startRun,
  type TestFleet,
} from '../../apps/executor/test/support';

/**
 * A model API key kept in AWS Secrets Manager (the fake, over the real SDK), used by a running
 * executor's `llm.generate`, rotated by another process: the executor picks the new key up on the
 * provider's 401 without a restart, and neither key appears anywhere it should not.
 */
const first = 'sk-canary-0001-not-a-real-key';
const second = 'sk-canary-0002-not-a-real-key';
const ref = 'aws://prod/agentry/llm#api_key';

let aws: FakeAwsSecretsManager;
let llm: FakeLlmServer;
let fleet: TestFleet;
let executor: ExecutorApp;
let secretsEnv: Record<string, string>;

beforeAll(async () => {
  aws = await startFakeAwsSecretsManager();
  aws.seed('prod/agentry/llm', JSON.stringify({ api_key: first, org: 'acme' }));
  llm = await startFakeLlmServer({ apiKey: first });
  // The SDK's default credential chain reads these (as it would read a pod's role).
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'test-access-key-id',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-for-tests-only',
  });
  secretsEnv = {
    AGENTRY_SECRETS_AWS_REGION: aws.region,
    AGENTRY_SECRETS_AWS_ENDPOINT: aws.url,
  };
  fleet = await openTestFleet('secret-rotation', secretsEnv);
  executor = await createExecutor(
    executorConfig(fleet, {
      AGENTRY_LLM_PROVIDER: 'openai',
      AGENTRY_LLM_MODEL: 'fake-gen',
      AGENTRY_LLM_BASE_URL: `${llm.url}/v1`,
      AGENTRY_LLM_API_KEY_REF: ref,
    }),
    { services: fleet.services, health: false },
  );
  await executor.start();
});
afterAll(async () => {
  await executor?.close({ deadlineMs: 2_000 });
  await fleet?.close();
  await llm?.close();
  await aws?.close();
});

const generate = (id: string) =>
  startRun(fleet, [{ id, tool: 'llm.generate', input: { prompt: `say ${id}` } }]);
const keysSent = () => llm.requests.map((r) => r.headers.authorization);

describe('secret rotation on a running executor', () => {
  it('uses the key from AWS Secrets Manager, read once and cached', async () => {
    const { runId } = await generate('before');
    await runReaches(fleet, runId, 'succeeded');
    await runReaches(fleet, (await generate('again')).runId, 'succeeded');
    expect(keysSent()).toEqual([`Bearer ${first}`, `Bearer ${first}`]);
    expect(aws.requestCount('GetSecretValue')).toBe(1);
  });

  it('picks up a rotation made by another process on the next 401, then never sends the old key', async () => {
    // Another process (here: a store like `agentry secrets rotate` opens) rotates the key.
    const other = await openSecretStore(
      toCommonConfig(parseEnv(commonEnv, { ...fleet.env, ...secretsEnv })).secrets,
      { actor: 'operator@test', production: false },
    );
    await other.rotate(ref, second);
    await other.close();
    llm.setApiKey(second);
    llm.reset();

    const { runId } = await generate('after');
    const detail = await runReaches(fleet, runId, 'succeeded');
    expect(detail.steps[0]?.attempts).toBe(1);
    // One refused call with the cached key, then the reloaded one; other JSON keys kept.
    expect(keysSent()).toEqual([`Bearer ${first}`, `Bearer ${second}`]);
    await runReaches(fleet, (await generate('later')).runId, 'succeeded');
    expect(keysSent().slice(2)).toEqual([`Bearer ${second}`]);
  });

  it('a run that fails and dead-letters leaks neither key: logs, Redis, Postgres, metrics', async () => {
    // As real providers do, the refusal quotes the key it was given.
    llm.setMode({
      kind: 'status',
      status: 400,
      body: { error: { message: `Incorrect API key provided: ${second}` } },
    });
    const { runId } = await generate('doomed');
    await runReaches(fleet, runId, 'failed');
    await expect.poll(async () => (await deadLettersOf(fleet, runId)).length).toBeGreaterThan(0);
    llm.clearMode();
    // The provider's words reached the dead letter, with the key cut out.
    const [letter] = await deadLettersOf(fleet, runId);
    expect(JSON.stringify(letter)).toContain('Incorrect API key provided');

    const places: Record<string, string> = {
      api: await apiAnswers(runId),
      logs: JSON.stringify(fleet.logs),
      metrics: await fleet.services.registry.metrics(),
      postgres: await postgresText(fleet),
      redis: await redisText(`{${fleet.env.AGENTRY_QUEUE_PREFIX}}`),
    };
    for (const [place, text] of Object.entries(places)) {
      expect(text.length, place).toBeGreaterThan(0);
      for (const key of [first, second])
        expect(text.includes(key), `${key} in ${place}`).toBe(false);
    }
    expect(places.api).toContain(runId);
    // The logs did see secret activity: the reads are audited by reference.
    expect(places.logs).toContain(ref);
  });
});

/** What an operator would read over the API about the run and the dead letters. */
async function apiAnswers(runId: string): Promise<string> {
  const api = await createApi(loadApiConfig({ ...fleet.env, AGENTRY_API_PORT: '0' }), {
    services: fleet.services,
  });
  try {
    const { port } = await api.start();
    const paths = [`/v1/runs/${runId}`, '/v1/runs', '/v1/dead-letters'];
    const bodies = await Promise.all(
      paths.map(async (path) => (await fetch(`http://127.0.0.1:${port}${path}`)).text()),
    );
    return bodies.join('\n');
  } finally {
    // The API borrows the fleet's services: close only what it opened.
    await api.close();
  }
}
