import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrationStatus } from '@agentry/db';
import { createTestDatabase, type TestDatabase } from '@agentry/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cliShellCommand } from '../../apps/cli/test/support/cli-bundle';
import { startCliFleet, type CliFleet } from '../../apps/cli/test/support/cli-fleet';
import { repoRoot } from '../support/fleet-process';

const databaseUrl =
  process.env.AGENTRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** `agentry` (its bundle, built from the sources), as the scripts' AGENTRY_CLI. */
let cli = '';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function script(name: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [join(repoRoot, 'scripts/migration', name), ...args],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
        timeout: 90_000,
      },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const plan = readFileSync(join(repoRoot, 'docs/migration-plan.md'), 'utf8');
const scripts = [
  ...new Set(
    [...plan.matchAll(/`scripts\/migration\/(rollback-\d-[a-z]+\.sh)`/g)].map((m) => m[1] ?? ''),
  ),
];

describe('docs/migration-plan.md and its rollback scripts', () => {
  it('gives every phase an executable rollback script that parses and explains itself', async () => {
    const phases = [...plan.matchAll(/^## Phase (\d) — /gm)].map((m) => Number(m[1]));
    expect(phases).toEqual([1, 2, 3, 4, 5, 6]);
    expect(scripts).toHaveLength(6);
    for (const name of scripts) {
      const path = join(repoRoot, 'scripts/migration', name);
      expect(existsSync(path), name).toBe(true);
      accessSync(path, constants.X_OK);
      const help = await script(name, ['--help']);
      expect(help.code, name).toBe(0);
      expect(help.stdout, name).toMatch(/rollback/);
      expect((await script(name, ['--nonsense'])).code, name).not.toBe(0);
    }
  });

  it('prints what each cluster rollback would run (DRY_RUN=1) and asks for what it needs', async () => {
    const dry = { DRY_RUN: '1', AGENTRY_CLI: 'agentry' };
    const p1 = await script(
      'rollback-1-preparation.sh',
      ['--release', 'ag', '--namespace', 'ns', '--drop-database'],
      dry,
    );
    expect(p1.stderr).toContain('+ helm uninstall ag --namespace ns --wait');
    expect(p1.stderr).toContain('+ agentry migrate down --to zero');
    const p2 = await script(
      'rollback-2-secrets.sh',
      ['--release', 'ag', '--namespace', 'ns', '--revision', '7'],
      dry,
    );
    expect(p2.stderr).toContain('+ helm rollback ag 7 --namespace ns --wait');
    expect(p2.stderr).toContain(
      '+ kubectl --namespace ns rollout status deployment/ag-executor --timeout 5m',
    );
    expect(p2.stderr).toContain('+ agentry doctor');
    const p4 = await script(
      'rollback-4-monitoring.sh',
      ['--release', 'ag', '--namespace', 'ns'],
      dry,
    );
    expect(p4.stderr).toMatch(
      /\+ helm upgrade ag \S+helm\/agentry --namespace ns --reuse-values --set metrics\.serviceMonitor\.enabled=false --set metrics\.prometheusRule\.enabled=false --wait/,
    );
    const p5 = await script(
      'rollback-5-cicd.sh',
      ['--repo', 'acme/agents', '--legacy-workflow', 'old.yml'],
      dry,
    );
    expect(p5.stderr).toContain('+ gh workflow disable deploy.yml --repo acme/agents');
    expect(p5.stderr).toContain('+ gh workflow enable old.yml --repo acme/agents');
    const missing = await script(
      'rollback-2-secrets.sh',
      ['--release', 'ag', '--namespace', 'ns'],
      dry,
    );
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('missing --revision');
  });

  it('names chart values that exist (the monitoring rollback turns them off)', () => {
    const values = parse(readFileSync(join(repoRoot, 'helm/agentry/values.yaml'), 'utf8')) as {
      metrics: { serviceMonitor: { enabled: unknown }; prometheusRule: { enabled: unknown } };
    };
    expect(typeof values.metrics.serviceMonitor.enabled).toBe('boolean');
    expect(typeof values.metrics.prometheusRule.enabled).toBe('boolean');
  });

  describe('phase 3: the database rollback, on Postgres', () => {
    let database: TestDatabase;
    let env: Record<string, string>;
    beforeAll(async () => {
      cli = await cliShellCommand();
      database = await createTestDatabase({ prefix: 't_plan' });
      env = { DATABASE_URL: databaseUrl, AGENTRY_DB_SCHEMA: database.schema, AGENTRY_CLI: cli };
    });
    afterAll(() => database?.close());

    const current = async () =>
      (await migrationStatus(database.db)).filter((m) => m.executedAt !== null).at(-1)?.name;

    it('migrates down to the recorded migration and proves it', async () => {
      const down = await script('rollback-3-database.sh', ['--to', '0003-llm-calls'], env);
      expect(down.stderr).toContain('rolling back to 0003-llm-calls');
      expect(down.code).toBe(0);
      expect(down.stderr).toMatch(
        /phase 3 rolled back: database at 0003-llm-calls, schema sha256:[0-9a-f]{64}/,
      );
      expect(await current()).toBe('0003-llm-calls');
      const again = await script('rollback-3-database.sh', ['--to', '0003-llm-calls'], env);
      expect(again.code).toBe(0);
      expect(again.stderr).toContain('already at 0003-llm-calls');
      const up = await script(
        'rollback-3-database.sh',
        ['--to', '0004-costs-reviews-conversations'],
        env,
      );
      expect(up.code).not.toBe(0);
      expect(up.stderr).toContain('would go up');
      expect(await current()).toBe('0003-llm-calls');
    });
  });

  describe('phase 6: the cut-over rollback, on a running fleet', () => {
    let fleet: CliFleet;
    beforeAll(async () => {
      cli = await cliShellCommand();
      fleet = await startCliFleet();
    });
    afterAll(() => fleet?.api.close());

    const stateOf = async (runId: string) =>
      (await fleet.api.http<{ run: { state: string } }>('GET', `/v1/runs/${runId}`)).body.run.state;
    const until = async (runId: string, state: string) => {
      for (let i = 0; i < 200 && (await stateOf(runId)) !== state; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await stateOf(runId)).toBe(state);
    };

    it('routes producers away, reports what is unfinished, and cancels it when told', async () => {
      const submitted = await fleet.api.http<{ runId: string }>('POST', '/v1/runs', {
        text: 'wait 20 s',
        tenantId: 'cutover',
      });
      const { runId } = submitted.body;
      await until(runId, 'running');
      const dir = await mkdtemp(join(tmpdir(), 'agentry-cutover-'));
      const routed = join(dir, 'routed-to-legacy');
      const env = { ...fleet.env, AGENTRY_CLI: cli };

      const waiting = await script(
        'rollback-6-cutover.sh',
        ['--route-cmd', `touch ${routed}`, '--drain-timeout', '1'],
        env,
      );
      expect(existsSync(routed)).toBe(true);
      expect(waiting.stderr).toContain(`still unfinished after 1s: ${runId}`);
      expect(waiting.code).toBe(2);
      expect(await stateOf(runId)).toBe('running');

      const cancelled = await script(
        'rollback-6-cutover.sh',
        ['--route-cmd', 'true', '--drain-timeout', '1', '--cancel-leftovers'],
        env,
      );
      expect(cancelled.stdout).toContain(`run ${runId}: cancelled`);
      expect(cancelled.code).toBe(0);
      await until(runId, 'cancelled');
    }, 60_000);
  });
});
