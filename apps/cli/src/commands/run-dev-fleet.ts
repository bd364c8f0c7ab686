import { randomBytes } from 'node:crypto';
import { loadApiConfig, createApi } from '@agentry/api';
import { migrateToLatest } from '@agentry/db';
import { openFleetServices, ResourceStack, submitIntent } from '@agentry/engine';
import { createExecutor, loadExecutorConfig } from '@agentry/executor';
import { createLogger } from '@agentry/observability';
import { createPlanner, loadPlannerConfig } from '@agentry/planner';
import { installShutdown } from '@agentry/queue';
import { createScrubber, isSecretRef } from '@agentry/secrets';
import { createApiClient } from '../api-client';
import { ensureLocalRedis } from '../local-redis';
import { watchRun } from './watch-run';

const demoIntent = 'deploy build 812 to staging and post the result to #ops';

/**
 * The whole fleet in one process: planner, executor and API sharing one database and Redis.
 * Loaded only by `agentry dev`, so the other commands start without it.
 */
export async function runDevFleet(opts: { demo?: boolean; fakeLlm?: boolean }): Promise<void> {
  const env: Record<string, string | undefined> = { AGENTRY_HEALTH_PORT: '0', ...process.env };
  const fake = opts.fakeLlm ? await startLocalFakeLlm(env) : undefined;
  const plannerConfig = loadPlannerConfig(env);
  const executorConfig = loadExecutorConfig(env);
  const apiConfig = loadApiConfig(env);
  const scrubber = createScrubber();
  const log = createLogger({
    component: 'dev',
    level: plannerConfig.logLevel,
    scrub: scrubber.scrub,
  });
  const stack = new ResourceStack(log);
  if (fake) {
    stack.push('fake llm', fake, (f) => f.close());
    console.log(`planning with the fake LLM server on ${fake.url} (docs/fake-llm-server.md)`);
  }

  // A Redis Cluster is never started here: it is the user's, like a remote Redis.
  const stopRedis =
    plannerConfig.redisCluster === undefined
      ? await ensureLocalRedis(plannerConfig.redisUrl)
      : undefined;
  if (stopRedis) {
    log.info({ redis: plannerConfig.redisUrl }, 'started a local redis-server for this session');
    stack.push('local redis', stopRedis, (stop) => stop());
  }
  const services = stack.push(
    'services',
    await openFleetServices(plannerConfig, { component: 'dev', log, scrubber, env }),
    (s) => s.close(),
  );
  const applied = await migrateToLatest(services.database.db);
  if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, 'database migrated');

  const executor = stack.push(
    'executor',
    await createExecutor(executorConfig, { services, health: false }),
    (a) => a.close({ deadlineMs: executorConfig.shutdownDeadlineMs }),
  );
  const planner = stack.push(
    'planner',
    await createPlanner(plannerConfig, { services, health: false }),
    (a) => a.close({ deadlineMs: plannerConfig.shutdownDeadlineMs }),
  );
  const api = stack.push('api', await createApi(apiConfig, { services }), (a) => a.close());
  installShutdown(
    {
      close: ({ deadlineMs }: { deadlineMs: number }) =>
        stack.close({ deadlineMs: deadlineMs + 5_000 }),
    },
    { deadlineMs: plannerConfig.shutdownDeadlineMs, log },
  );
  await executor.start();
  await planner.start();
  const { port } = await api.start();
  const apiUrl = `http://${apiConfig.host}:${port}`;
  console.log(`\nagentry is running: API ${apiUrl}  (Ctrl-C to stop)\n`);

  if (opts.demo) {
    console.log(`demo: submitting "${demoIntent}"`);
    const { runId } = await submitIntent(services.engine, {
      text: demoIntent,
      tenantId: 'demo',
    });
    const configured = apiConfig.apiToken;
    const token = () =>
      configured !== undefined && isSecretRef(configured)
        ? services.secrets.get(configured)
        : Promise.resolve(configured);
    await watchRun(createApiClient({ baseUrl: apiUrl, token }), runId);
    console.log(
      `\ntry: npx -y pnpm@10.34.8 agentry submit --watch "echo 3 steps"   (the fleet keeps running)\n`,
    );
  }
}

/**
 * Start the fake LLM server on a free loopback port and point the provider variables of `env`
 * at it, with a throwaway key passed by reference like a real one.
 */
async function startLocalFakeLlm(env: Record<string, string | undefined>) {
  const { startFakeLlmServer } = await import('@agentry/llm/testing');
  const apiKey = randomBytes(16).toString('hex');
  const server = await startFakeLlmServer({ apiKey });
  Object.assign(env, {
    AGENTRY_LLM_PROVIDER: 'openai',
    AGENTRY_LLM_MODEL: 'fake-model',
    AGENTRY_LLM_BASE_URL: `${server.url}/v1`,
    AGENTRY_LLM_API_KEY_REF: 'env://AGENTRY_FAKE_LLM_API_KEY',
    AGENTRY_FAKE_LLM_API_KEY: apiKey,
  });
  return server;
}
