import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { scrapeTargets } from './alert-cases';
import { loadDashboard, readRepoFile, readYaml, repoRoot } from './load-deploy';

interface ComposeService {
  image?: string;
  volumes?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  command?: string[];
}

const compose = parse(readRepoFile('docker-compose.yml'), { merge: true }) as {
  services: Record<string, ComposeService>;
};

/** `./host/path:/container/path[:ro]` mounts of a service, as [host, container, mode]. */
function mounts(service: string): [string, string, string | undefined][] {
  return (compose.services[service]?.volumes ?? [])
    .filter((v) => v.startsWith('./'))
    .map((v) => v.split(':') as [string, string, string | undefined]);
}

describe('the dashboard (deploy/grafana/dashboards/agentry.json)', () => {
  const dashboard = loadDashboard();
  const panels = dashboard.panels.filter((p) => p.type !== 'row');

  it('is a current Grafana dashboard with the agreed rows, in order', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(38);
    expect(dashboard.uid).toBe('agentry-fleet');
    expect(dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual([
      'Throughput & errors',
      'Latency',
      'Queues',
      'LLM & cost',
      'Budgets',
      'Fleet',
      'API',
    ]);
  });

  it('queries the provisioned Prometheus by uid in every panel and target', () => {
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: 'prometheus' });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        expect(t.datasource?.uid, p.title).toBe('prometheus');
        expect(t.expr.trim(), p.title).not.toBe('');
      }
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
    }
  });

  it('has unique panel ids and panels that fit the grid without overlapping', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const boxes = dashboard.panels.map((p) => p.gridPos);
    for (const [i, a] of boxes.entries()) {
      expect(a.x + a.w).toBeLessThanOrEqual(24);
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${JSON.stringify(a)} and ${JSON.stringify(b)}`).toBe(false);
      }
    }
  });
});

describe('Grafana provisioning', () => {
  it('provides the Prometheus of docker-compose under the uid the dashboard uses', () => {
    const file = readYaml('deploy/grafana/provisioning/datasources/prometheus.yml') as {
      datasources: { uid: string; type: string; url: string }[];
    };
    expect(file.datasources).toEqual([
      expect.objectContaining({
        uid: 'prometheus',
        type: 'prometheus',
        url: 'http://prometheus:9090',
      }),
    ]);
  });

  it('loads dashboards from where docker-compose mounts deploy/grafana/dashboards', () => {
    const file = readYaml('deploy/grafana/provisioning/dashboards/agentry.yml') as {
      providers: { options: { path: string } }[];
    };
    const path = file.providers[0]?.options.path;
    expect(mounts('grafana')).toContainEqual(['./deploy/grafana/dashboards', path, 'ro']);
    expect(mounts('grafana')).toContainEqual([
      './deploy/grafana/provisioning',
      '/etc/grafana/provisioning',
      'ro',
    ]);
  });
});

describe('docker-compose.yml', () => {
  it('runs Prometheus on :9090 with deploy/prometheus mounted read-only', () => {
    const prometheus = compose.services.prometheus;
    expect(prometheus?.image).toMatch(/^prom\/prometheus:v\d/);
    expect(prometheus?.ports).toContain('127.0.0.1:9090:9090');
    expect(mounts('prometheus')).toContainEqual(['./deploy/prometheus', '/etc/prometheus', 'ro']);
    expect(prometheus?.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
  });

  it('runs Grafana on :3000, its admin password from the environment with a dev default', () => {
    const grafana = compose.services.grafana;
    expect(grafana?.image).toMatch(/^grafana\/grafana:\d/);
    expect(grafana?.ports).toContain('127.0.0.1:3000:3000');
    expect(grafana?.environment?.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{[A-Z_]+:-[^}]+\}$/);
    expect(grafana?.environment?.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe('Viewer');
  });

  it('mounts only folders that exist', () => {
    for (const [host] of [...mounts('prometheus'), ...mounts('grafana')]) {
      expect(existsSync(join(repoRoot, host)), host).toBe(true);
    }
  });
});

describe('deploy/prometheus/prometheus.yml', () => {
  const config = readYaml('deploy/prometheus/prometheus.yml') as {
    rule_files: string[];
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };

  it('loads the alert rules beside it', () => {
    expect(config.rule_files).toEqual(['alerts.yml']);
    expect(existsSync(join(repoRoot, 'deploy/prometheus/alerts.yml'))).toBe(true);
  });

  it('scrapes the planner, the executor and the API with the jobs the rules and tests expect', () => {
    const scraped = config.scrape_configs.map((s) => ({
      job: s.job_name,
      instance: s.static_configs.flatMap((c) => c.targets).join(),
    }));
    expect(scraped).toEqual(Object.values(scrapeTargets));
  });

  it('targets docker-compose services on the ports they serve /metrics on', () => {
    // docs/operations.md: the health port of the planner and the executor, and the API port.
    const ops = readRepoFile('docs/operations.md');
    const healthPort = /`AGENTRY_HEALTH_PORT` \((\d+)\)/.exec(ops)?.[1];
    const apiPort = /`AGENTRY_API_PORT` \((\d+)\)/.exec(ops)?.[1];
    expect([healthPort, apiPort]).toEqual(['9464', '8080']);
    for (const [service, port] of [
      ['planner', healthPort],
      ['executor', healthPort],
      ['api', apiPort],
    ] as const) {
      expect(compose.services[service], service).toBeDefined();
      const portVariable = service === 'api' ? 'AGENTRY_API_PORT' : 'AGENTRY_HEALTH_PORT';
      expect(compose.services[service]?.environment?.[portVariable] ?? port).toBe(port);
      expect(scrapeTargets[service].instance).toBe(`${service}:${String(port)}`);
    }
  });
});
