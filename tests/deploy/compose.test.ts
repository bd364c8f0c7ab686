import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadApiConfig } from '../../apps/api/src/config';
import { loadExecutorConfig } from '../../apps/executor/src/config';
import { loadPlannerConfig } from '../../apps/planner/src/config';
import { repoRoot } from '../support/fleet-process';

interface Service {
  image?: string;
  build?: { context: string; args?: Record<string, string> };
  depends_on?: Record<string, { condition: string }> | string[];
  environment?: Record<string, string>;
  ports?: string[];
  network_mode?: string;
  command?: string[];
  entrypoint?: string[];
  restart?: string;
  healthcheck?: { test: string[] };
  profiles?: string[];
  pull_policy?: string;
  stop_grace_period?: string;
  read_only?: boolean;
}

const composeFile = 'docker-compose.yml';
const compose = parse(readFileSync(join(repoRoot, composeFile), 'utf8'), { merge: true }) as {
  name: string;
  services: Record<string, Service>;
};
const prometheus = parse(
  readFileSync(join(repoRoot, 'deploy/prometheus/prometheus.yml'), 'utf8'),
) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };

const apps = ['planner', 'executor', 'api'] as const;
const service = (name: string): Service => {
  const s = compose.services[name];
  if (s === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
/** `${NAME:-default}` as compose resolves it with NAME unset. */
const withDefaults = (value: string) => value.replace(/\$\{\w+:-([^}]*)\}/g, '$1');
const env = (name: string): Record<string, string> =>
  Object.fromEntries(
    Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, withDefaults(String(v))]),
  );
/** A compose duration (`35s`, `1m30s`) in ms. */
function durationMs(value: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
  const parts = [...value.matchAll(/(\d+)(ms|h|m|s)/g)];
  expect(parts.map((p) => p[0]).join(''), value).toBe(value);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * (units[unit ?? ''] ?? NaN), 0);
}

describe('docker-compose.yml', () => {
  it('passes dclint with no errors or warnings', async () => {
    const bin = join(repoRoot, 'node_modules/dclint/bin/dclint.cjs');
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [bin, composeFile, '--max-warnings', '0', '--formatter', 'json'],
        { cwd: repoRoot },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const [report] = JSON.parse(result.stdout) as { messages: unknown[] }[];
    expect(report?.messages).toEqual([]);
  });

  it('builds each agentry service from the Dockerfile, one image per app', () => {
    const built: [string, string][] = [
      ...apps.map((a): [string, string] => [a, a]),
      ['migrate', 'cli'],
      ['fake-llm', 'cli'],
      ['fake-llm-relay', 'cli'],
    ];
    for (const [name, app] of built) {
      const s = service(name);
      expect(s.build, name).toEqual({ context: '.', args: { APP: app } });
      expect(s.image, name).toBe(`agentry-${app}:local`);
      // Always built here, never pulled (dclint no-build-and-image accepts build + image so).
      expect(s.pull_policy, name).toBe('build');
      expect(s.read_only, name).toBe(true);
    }
  });

  it('pins every other image to a version', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (s.build !== undefined) continue;
      expect(s.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(s.image, name).not.toMatch(/:(latest|stable|edge)$/);
    }
  });

  it('migrates once, before any agentry process starts', () => {
    const migrate = service('migrate');
    expect(migrate.command).toEqual(['migrate', 'up']);
    expect(migrate.restart).toBe('no');
    expect(migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const app of apps) {
      expect(service(app).depends_on, app).toMatchObject({
        migrate: { condition: 'service_completed_successfully' },
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
    }
  });

  it('runs Redis as BullMQ requires: noeviction, AOF synced every second, bounded memory', () => {
    const command = service('redis').command ?? [];
    const flag = (name: string) => command[command.indexOf(name) + 1];
    expect(command[0]).toBe('redis-server');
    expect(flag('--maxmemory-policy')).toBe('noeviction');
    expect(flag('--appendonly')).toBe('yes');
    expect(flag('--appendfsync')).toBe('everysec');
    expect(flag('--maxmemory')).toMatch(/^\d+(mb|gb)$/);
    expect(service('redis').healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('runs PostgreSQL 16 with a health check', () => {
    expect(service('postgres').image).toMatch(/^postgres:16[.-]/);
    expect(service('postgres').healthcheck?.test.join(' ')).toContain('pg_isready');
  });

  it('publishes ports on 127.0.0.1 only', () => {
    const published = Object.entries(compose.services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => [name, p] as const),
    );
    expect(published.length).toBeGreaterThan(0);
    for (const [name, port] of published) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    expect(service('api').ports).toEqual(['127.0.0.1:8080:8080']);
  });

  it('health-checks each agentry process on the port it serves, as the image does', () => {
    for (const app of apps) {
      const s = service(app);
      const kind = app === 'api' ? 'api' : 'worker';
      expect(s.healthcheck?.test, app).toEqual([
        'CMD',
        'node',
        '/app/docker-healthcheck.mjs',
        kind,
      ]);
      const portVariable = app === 'api' ? 'AGENTRY_API_PORT' : 'AGENTRY_HEALTH_PORT';
      expect(env(app)[portVariable], app).toBe(app === 'api' ? '8080' : '9464');
      expect(s.restart, app).toBe('unless-stopped');
    }
    expect(env('api').AGENTRY_API_HOST).toBe('0.0.0.0');
  });

  it('gives every agentry process longer to stop than its drain deadline', () => {
    for (const app of apps) {
      const deadline = Number(env(app).AGENTRY_SHUTDOWN_DEADLINE_MS ?? 25_000);
      expect(deadline, app).toBe(25_000);
      expect(durationMs(service(app).stop_grace_period ?? '10s'), app).toBeGreaterThan(deadline);
    }
  });

  it('scrapes only compose services, on the ports they serve /metrics on', () => {
    const jobs = prometheus.scrape_configs.map((c) => c.job_name);
    expect(jobs).toEqual(['agentry-planner', 'agentry-executor', 'agentry-api']);
    for (const config of prometheus.scrape_configs) {
      for (const target of config.static_configs.flatMap((c) => c.targets)) {
        const [host = '', port = ''] = target.split(':');
        const s = service(host);
        expect(config.job_name).toBe(`agentry-${host}`);
        expect(s.network_mode, target).toBeUndefined();
        const served = host === 'api' ? env(host).AGENTRY_API_PORT : env(host).AGENTRY_HEALTH_PORT;
        expect(port, target).toBe(served);
      }
    }
  });

  it('points the planner and the executor at the fake LLM, through the relay', () => {
    const fake = service('fake-llm');
    const relay = service('fake-llm-relay');
    const fakePort = fake.command?.[(fake.command?.indexOf('--port') ?? -2) + 1];
    expect(fake.command?.[0]).toBe('fake-llm');
    expect(relay.network_mode).toBe('service:fake-llm');
    const code = relay.entrypoint?.at(-1) ?? '';
    expect(code).toContain(`net.connect(${String(fakePort)}, '127.0.0.1')`);
    const relayPort = /\.listen\((\d+), '0\.0\.0\.0'\)/.exec(code)?.[1];
    expect(fake.ports).toEqual([`127.0.0.1:4010:${String(relayPort)}`]);
    for (const app of ['planner', 'executor']) {
      const e = env(app);
      expect(e.AGENTRY_LLM_PROVIDER, app).toBe('openai');
      expect(e.AGENTRY_LLM_BASE_URL, app).toBe(`http://fake-llm:${String(relayPort)}/v1`);
      expect(e.AGENTRY_LLM_API_KEY_REF, app).toBe('env://AGENTRY_FAKE_LLM_API_KEY');
      expect(e.AGENTRY_FAKE_LLM_API_KEY, app).toBe(env('fake-llm').AGENTRY_FAKE_LLM_API_KEY);
      expect(service(app).depends_on, app).toMatchObject({ 'fake-llm-relay': expect.anything() });
    }
  });

  it('has tracing off by default and Jaeger under the tracing profile', () => {
    const jaeger = service('jaeger');
    expect(jaeger.image).toBe('jaegertracing/jaeger:2.11.0');
    expect(jaeger.profiles).toEqual(['tracing']);
    expect(jaeger.ports).toContain('127.0.0.1:4318:4318');
    for (const app of apps) {
      expect(service(app).environment?.AGENTRY_TRACING, app).toBe('${AGENTRY_TRACING:-off}');
      expect(env(app).OTEL_EXPORTER_OTLP_ENDPOINT, app).toBe('http://jaeger:4318');
    }
  });

  it("is a configuration each process accepts with the image's AGENTRY_ENV=production", () => {
    const image = { NODE_ENV: 'production', AGENTRY_ENV: 'production' };
    const planner = loadPlannerConfig({ ...image, ...env('planner') });
    const executor = loadExecutorConfig({ ...image, ...env('executor') });
    const api = loadApiConfig({ ...image, ...env('api') });
    for (const config of [planner, executor, api]) {
      expect(config.env).toBe('production');
      expect(config.databaseUrl).toBe('postgres://agentry@postgres:5432/agentry');
      expect(config.redisUrl).toBe('redis://redis:6379');
      expect(config.shutdownDeadlineMs).toBe(25_000);
      expect(config.tracing.exporter).toBe('off');
    }
    expect(api.host).toBe('0.0.0.0');
    expect(api.port).toBe(8080);
  });
});
