import { z } from 'zod';
import { env, envBool, envInt, envString } from './env-types';
import { parseRedisClusterNodes, type RedisClusterNode } from './redis-cluster-nodes';

/** `AGENTRY_REDIS_CLUSTER_NODES`: unset, or seeds checked here so a bad list stops the start-up. */
const clusterNodes = env(
  z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return undefined;
      try {
        return parseRedisClusterNodes(text);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    }),
);

/**
 * Variables every agentry process reads. Each app extends this with its own.
 * The README's configuration table documents them all.
 */
export const commonEnv = z.object({
  /** development | production: production refuses unsafe settings (Redis eviction, ...). */
  AGENTRY_ENV: env(z.enum(['development', 'production', 'test']).default('development')),
  /** Redis that holds the queues. */
  AGENTRY_REDIS_URL: env(z.string().url().default('redis://127.0.0.1:6379')),
  /** Secret reference of the Redis password (AUTH), instead of one in the URL. */
  AGENTRY_REDIS_PASSWORD_REF: envString(),
  /** Redis Cluster seeds, `host:port,host:port`; set → a Cluster client, AGENTRY_REDIS_URL unused. */
  AGENTRY_REDIS_CLUSTER_NODES: clusterNodes,
  /** TLS to every Redis Cluster node (what `rediss://` is to AGENTRY_REDIS_URL). */
  AGENTRY_REDIS_CLUSTER_TLS: envBool(false),
  /** Base of the Redis key prefix; wrapped in {} so each queue stays in one Redis Cluster slot. */
  AGENTRY_QUEUE_PREFIX: env(
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,32}$/)
      .default('agentry'),
  ),
  /** PostgreSQL connection string, or a secret reference to one; unset → embedded PGlite under AGENTRY_DATA_DIR. */
  DATABASE_URL: envString(),
  /** A secret reference to the database password, read for every new connection (rotation). */
  AGENTRY_DATABASE_PASSWORD_REF: envString(),
  /** Postgres schema to use (search_path); unset → the server default (public). */
  AGENTRY_DB_SCHEMA: envString(),
  /** Where the embedded database lives when DATABASE_URL is unset. */
  AGENTRY_DATA_DIR: env(z.string().default('.agentry')),
  /** trace | debug | info | warn | error | fatal. */
  AGENTRY_LOG_LEVEL: env(
    z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  ),
  /** Port of the /metrics, /healthz, /readyz server; 0 picks a free port. */
  AGENTRY_HEALTH_PORT: envInt(9464, { max: 65535 }),
  /** How long a SIGTERM drain may take before in-flight jobs are cancelled. Keep below the pod's grace period. */
  AGENTRY_SHUTDOWN_DEADLINE_MS: envInt(25_000, { min: 100, max: 10 * 60_000 }),
  /** Secret reference of the webhook URL tenant budget alerts are posted to; unset → only logged and counted. */
  AGENTRY_BUDGET_WEBHOOK_URL_REF: envString(),
  /** An ES module exporting the application's own tools, added to the built-ins (executor, planner, API). */
  AGENTRY_TOOLS_MODULE: envString(),
  /** How long a resolved secret is served from the cache before it is loaded again. */
  AGENTRY_SECRETS_TTL_MS: envInt(300_000, { min: 1_000, max: 86_400_000 }),
  /** When its backend fails, an expired secret is still served for at most this long. */
  AGENTRY_SECRETS_STALE_MS: envInt(900_000, { max: 86_400_000 }),
  /** Let env:// secret references work when AGENTRY_ENV=production (refused otherwise). */
  AGENTRY_SECRETS_ALLOW_ENV: envBool(false),
  /** AWS region of aws:// references; unset → AWS_REGION. */
  AGENTRY_SECRETS_AWS_REGION: envString(),
  /** Endpoint override for AWS Secrets Manager (a VPC endpoint, LocalStack, a test server). */
  AGENTRY_SECRETS_AWS_ENDPOINT: env(z.url().optional()),
  /** Vault address of vault:// references; unset → VAULT_ADDR. */
  AGENTRY_SECRETS_VAULT_ADDR: env(z.url().optional()),
  /** Vault Enterprise namespace. */
  AGENTRY_SECRETS_VAULT_NAMESPACE: envString(),
  /** token | approle | kubernetes. */
  AGENTRY_SECRETS_VAULT_AUTH: env(z.enum(['token', 'approle', 'kubernetes']).default('token')),
  /** Where the Vault token is (token auth): env:// or file:// only. */
  AGENTRY_SECRETS_VAULT_TOKEN_REF: env(z.string().default('env://VAULT_TOKEN')),
  /** AppRole role id (approle auth). */
  AGENTRY_SECRETS_VAULT_ROLE_ID: envString(),
  /** Where the AppRole secret id is (approle auth): env:// or file:// only. */
  AGENTRY_SECRETS_VAULT_SECRET_ID_REF: envString(),
  /** Vault role bound to the pod's service account (kubernetes auth). */
  AGENTRY_SECRETS_VAULT_ROLE: envString(),
  /** The service account token file (kubernetes auth). */
  AGENTRY_SECRETS_VAULT_JWT_PATH: env(
    z.string().default('/var/run/secrets/kubernetes.io/serviceaccount/token'),
  ),
  /** off | otlp: export OpenTelemetry traces (a trace per run) over OTLP/HTTP. */
  AGENTRY_TRACING: env(z.enum(['off', 'otlp']).default('off')),
  /** Where OTLP traces go (the full URL, standard OpenTelemetry name). */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: env(z.url().optional()),
  /** Base URL of an OTLP collector; traces go to `<base>/v1/traces` (standard name). */
  OTEL_EXPORTER_OTLP_ENDPOINT: env(z.url().optional()),
  /** Secret reference of the collector's request headers, `name=value,name2=value2` (API keys). */
  AGENTRY_OTLP_HEADERS_REF: envString(),
  /** Deadline of one export request to the collector. */
  AGENTRY_OTLP_TIMEOUT_MS: envInt(10_000, { min: 100, max: 120_000 }),
  /** Share of runs traced, 0 to 1; decided by the run id, so every process keeps the same runs. */
  AGENTRY_TRACING_SAMPLE_RATIO: env(z.coerce.number().min(0).max(1).default(1)),
});
export type CommonEnv = z.output<typeof commonEnv>;

/** Settings every process derives from {@link commonEnv}, in the units code uses. */
export interface CommonConfig {
  env: 'development' | 'production' | 'test';
  redisUrl: string;
  redisPasswordRef: string | undefined;
  /** Set when the queues live on a Redis Cluster (`redisUrl` is then unused). */
  redisCluster: RedisClusterSettings | undefined;
  queuePrefix: string;
  databaseUrl: string | undefined;
  databasePasswordRef: string | undefined;
  databaseSchema: string | undefined;
  dataDir: string;
  logLevel: string;
  healthPort: number;
  shutdownDeadlineMs: number;
  /** Secret reference of the budget alert webhook URL (a credential: Slack and Teams URLs are). */
  budgetWebhookUrlRef: string | undefined;
  /** Path of the module with the application's own tools (`AGENTRY_TOOLS_MODULE`). */
  toolsModule: string | undefined;
  secrets: SecretsSettings;
  tracing: TracingSettings;
}

/** A Redis Cluster: the seeds the client discovers the cluster from, and TLS to every node. */
export interface RedisClusterSettings {
  nodes: RedisClusterNode[];
  tls: boolean;
}

/** OpenTelemetry tracing: off by default. */
export interface TracingSettings {
  exporter: 'off' | 'otlp';
  /** The OTLP/HTTP traces URL. */
  endpoint: string;
  headersRef: string | undefined;
  timeoutMs: number;
  sampleRatio: number;
}

/** Where secret references are resolved and how long values are cached. */
export interface SecretsSettings {
  ttlMs: number;
  staleMs: number;
  allowEnvInProduction: boolean;
  aws: { region: string | undefined; endpoint: string | undefined };
  vault: {
    address: string | undefined;
    namespace: string | undefined;
    auth: 'token' | 'approle' | 'kubernetes';
    tokenRef: string;
    roleId: string | undefined;
    secretIdRef: string | undefined;
    role: string | undefined;
    jwtPath: string;
  };
}

export function toCommonConfig(env: CommonEnv): CommonConfig {
  return {
    env: env.AGENTRY_ENV,
    redisUrl: env.AGENTRY_REDIS_URL,
    redisPasswordRef: env.AGENTRY_REDIS_PASSWORD_REF,
    redisCluster:
      env.AGENTRY_REDIS_CLUSTER_NODES === undefined
        ? undefined
        : { nodes: env.AGENTRY_REDIS_CLUSTER_NODES, tls: env.AGENTRY_REDIS_CLUSTER_TLS },
    queuePrefix: env.AGENTRY_QUEUE_PREFIX,
    databaseUrl: env.DATABASE_URL,
    databasePasswordRef: env.AGENTRY_DATABASE_PASSWORD_REF,
    databaseSchema: env.AGENTRY_DB_SCHEMA,
    dataDir: env.AGENTRY_DATA_DIR,
    logLevel: env.AGENTRY_LOG_LEVEL,
    healthPort: env.AGENTRY_HEALTH_PORT,
    shutdownDeadlineMs: env.AGENTRY_SHUTDOWN_DEADLINE_MS,
    budgetWebhookUrlRef: env.AGENTRY_BUDGET_WEBHOOK_URL_REF,
    toolsModule: env.AGENTRY_TOOLS_MODULE,
    secrets: {
      ttlMs: env.AGENTRY_SECRETS_TTL_MS,
      staleMs: env.AGENTRY_SECRETS_STALE_MS,
      allowEnvInProduction: env.AGENTRY_SECRETS_ALLOW_ENV,
      aws: { region: env.AGENTRY_SECRETS_AWS_REGION, endpoint: env.AGENTRY_SECRETS_AWS_ENDPOINT },
      vault: {
        address: env.AGENTRY_SECRETS_VAULT_ADDR,
        namespace: env.AGENTRY_SECRETS_VAULT_NAMESPACE,
        auth: env.AGENTRY_SECRETS_VAULT_AUTH,
        tokenRef: env.AGENTRY_SECRETS_VAULT_TOKEN_REF,
        roleId: env.AGENTRY_SECRETS_VAULT_ROLE_ID,
        secretIdRef: env.AGENTRY_SECRETS_VAULT_SECRET_ID_REF,
        role: env.AGENTRY_SECRETS_VAULT_ROLE,
        jwtPath: env.AGENTRY_SECRETS_VAULT_JWT_PATH,
      },
    },
    tracing: {
      exporter: env.AGENTRY_TRACING,
      endpoint: tracesEndpoint(env),
      headersRef: env.AGENTRY_OTLP_HEADERS_REF,
      timeoutMs: env.AGENTRY_OTLP_TIMEOUT_MS,
      sampleRatio: env.AGENTRY_TRACING_SAMPLE_RATIO,
    },
  };
}

/** The OTLP traces URL as OpenTelemetry's exporters resolve it: signal URL, else `<base>/v1/traces`. */
function tracesEndpoint(env: CommonEnv): string {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4318';
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}
