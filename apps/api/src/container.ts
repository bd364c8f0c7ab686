import { planningToolsFor, planningToolsOf, type ToolDefinition } from '@agentry/executor';
import {
  cachedDurations,
  openFleetServices,
  requireSecrets,
  type FleetServices,
  type ProcessLogging,
} from '@agentry/engine';
import { FleetGauges, QueueDepthMetrics } from '@agentry/observability';
import {
  announceLogLevel,
  createDeadLetterAdmin,
  createQueueDepthCollector,
  createRedisAdmission,
} from '@agentry/queue';
import { queueNames } from '@agentry/schema';
import { isSecretRef, type SecretStore } from '@agentry/secrets';
import type { Credential } from './auth';
import { boardPath } from './board';
import type { ApiConfig } from './config';
import { loadCostInputs } from './cost-inputs';
import { startFleetGaugeCollector } from './fleet-gauge-collector';
import { buildServer } from './server';

export interface ApiApp {
  start(): Promise<{ port: number }>;
  /** Stop accepting requests, finish those in flight, close everything. Safe twice. */
  close(options?: { deadlineMs?: number }): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Wire the HTTP API: the one place that builds its dependencies. */
export async function createApi(
  config: ApiConfig,
  options: {
    services?: FleetServices;
    logging?: ProcessLogging;
    /**
     * The tools the executors offer — the same list as `createExecutor({ tools })`: an amended
     * plan may name only these, and its review rates them.
     * @default the built-in tools and those of `AGENTRY_TOOLS_MODULE`
     */
    tools?: readonly ToolDefinition[];
  } = {},
): Promise<ApiApp> {
  const services =
    options.services ?? (await openFleetServices(config, { component: 'api', ...options.logging }));
  const ownsServices = options.services === undefined;
  try {
    const { producer, repos } = services;
    const tools = options.tools
      ? planningToolsOf(options.tools)
      : await planningToolsFor(config.toolsModule);
    const refOrNone = (value: string | undefined) =>
      value !== undefined && isSecretRef(value) ? value : undefined;
    await requireSecrets(services.secrets, {
      AGENTRY_API_TOKEN: refOrNone(config.apiToken),
      ...Object.fromEntries(config.board.users.map((u) => [u.variable, refOrNone(u.password)])),
    });
    for (const message of config.board.deprecated) services.log.warn(message);
    const costs = await loadCostInputs(config.costs, producer);
    // New intents are refused while Redis cannot take them; a write it refuses for memory closes
    // admission at once (the engine's producer reports its failures).
    const admission = createRedisAdmission({
      connection: services.producerConnection,
      prefix: services.prefix,
      maxMemoryRatio: config.intakeRedisMemoryRatio,
      log: services.log,
    });
    const server = await buildServer({
      engine: { ...services.engine, producer: admission.watch(services.engine.producer) },
      admission,
      announceLogLevel: (change) =>
        announceLogLevel(services.producerConnection, services.prefix, change),
      deadLetters: createDeadLetterAdmin({
        connection: services.producerConnection,
        prefix: services.prefix,
        store: repos.deadLetters,
      }),
      registry: services.registry,
      scrubError: services.secrets.scrubber.scrubDeep,
      log: services.log,
      apiToken:
        config.apiToken === undefined ? undefined : credentialOf(config.apiToken, services.secrets),
      readiness: services.readiness,
      board:
        config.board.users.length > 0
          ? {
              // Every agentry queue, the dead-letter queue included.
              queues: Object.values(queueNames).map((name) => producer.queue(name)),
              users: config.board.users.map((u) => ({
                name: u.name,
                role: u.role,
                password: credentialOf(u.password, services.secrets),
              })),
            }
          : undefined,
      costs,
      amend: {
        knownTools: tools.names,
        review: {
          tools: tools.profile,
          durations: cachedDurations(() =>
            repos.steps.durations(new Date(Date.now() - 7 * 86_400_000)),
          ),
          pricing: { prices: costs.prices, model: config.model },
          policy: config.approval,
        },
      },
    });
    // Queue depth by state, exported here so it is known even while no worker runs (scale from zero).
    const depth = new QueueDepthMetrics(services.registry);
    let fleetGauges: ReturnType<typeof startFleetGaugeCollector> | undefined;
    const collector = createQueueDepthCollector({
      connection: services.producerConnection,
      prefix: services.prefix,
      queues: Object.values(queueNames),
      intervalMs: config.queueDepthIntervalMs,
      sink: (queue, counts, oldest) => depth.set(queue, counts, oldest),
      log: services.log,
    });
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        fleetGauges?.close();
        admission.close();
        await collector.close();
        await server.close();
        if (ownsServices) await services.close();
      })());
    return {
      async start() {
        await server.listen({ port: config.port, host: config.host });
        admission.start();
        collector.start();
        fleetGauges = startFleetGaugeCollector({
          gauges: new FleetGauges(services.registry),
          repos,
          redis: services.producerConnection,
          prefix: services.prefix,
          queues: Object.values(queueNames),
          intervalMs: config.queueDepthIntervalMs,
          log: services.log,
        });
        const address = server.server.address();
        const port = typeof address === 'object' && address ? address.port : config.port;
        services.log.info(
          { port, board: config.board.users.length > 0 ? boardPath : 'off' },
          'api listening',
        );
        return { port };
      },
      close,
      [Symbol.asyncDispose]: () => close(),
    };
  } catch (e) {
    if (ownsServices) await services.close();
    throw e;
  }
}

/** After a mismatch, a referenced credential is reloaded at most this often. */
const reloadEveryMs = 30_000;

/**
 * A configured secret as a {@link Credential}: a reference is resolved through the store, and
 * reloaded (at most every 30 s, whatever clients send) when a presented value does not match —
 * so a token rotated by another process is accepted at once and the old one refused.
 */
function credentialOf(
  value: string,
  secrets: Pick<SecretStore, 'get' | 'invalidate' | 'scrubber'>,
): Credential {
  if (!isSecretRef(value)) {
    // A literal (development): kept out of the logs all the same.
    secrets.scrubber.add(value);
    return () => Promise.resolve(value);
  }
  let lastReload = -Infinity;
  const credential: Credential = () => secrets.get(value);
  credential.reload = async () => {
    const now = Date.now();
    if (now - lastReload < reloadEveryMs) return undefined;
    lastReload = now;
    secrets.invalidate(value, 'a presented credential did not match');
    return secrets.get(value);
  };
  return credential;
}
