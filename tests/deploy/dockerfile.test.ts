import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@agentry/db/testing';
import { deleteKeys } from '@agentry/queue/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/fleet-process';

// ---------------------------------------------------------------------------------------------
// A small Dockerfile reader: instructions per stage, continuation lines joined, comments dropped.
// ---------------------------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

interface Dockerfile {
  /** ARGs before the first FROM (usable in FROM lines). */
  globalArgs: Map<string, string>;
  stages: Stage[];
}

function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(`${pending}${line}`.trim());
    pending = '';
  }
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logical.filter((l) => l !== '')) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') {
      const [from = '', as, name] = rest;
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword === 'ARG') {
        const [name = '', value = ''] = instruction.args.split('=');
        globalArgs.set(name, value);
      }
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

/** The stages an image built with `args` is made of, base first (ending at the final stage). */
function stageChain(file: Dockerfile, args: Record<string, string>): Stage[] {
  const expand = (s: string) =>
    s.replace(/\$\{(\w+)\}/g, (_, n: string) => args[n] ?? file.globalArgs.get(n) ?? '');
  const chain: Stage[] = [];
  let stage = file.stages.at(-1);
  while (stage) {
    chain.unshift(stage);
    const from = expand(stage.from);
    stage = file.stages.find((s) => s.name === from);
  }
  return chain;
}

/** Instructions of `keyword` in the stages an image is made of, in order. */
function effective(chain: Stage[], keyword: string): string[] {
  return chain.flatMap((s) =>
    s.instructions.filter((i) => i.keyword === keyword).map((i) => i.args),
  );
}

const dockerfile = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const apps = ['planner', 'executor', 'api', 'cli'] as const;
type App = (typeof apps)[number];
const pnpmVersion = (
  JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { packageManager: string }
).packageManager.replace(/^pnpm@/, '');
const runtimeEntrypoint = '["/usr/bin/tini", "--", "node", "/app/dist/main.js"]';

describe('Dockerfile', () => {
  const build = dockerfile.stages.find((s) => s.name === 'build');
  const buildRuns = build?.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args) ?? [];

  it('takes the app as a build argument and is multi-stage', () => {
    expect(dockerfile.globalArgs.has('APP')).toBe(true);
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    expect(build?.from).toBe('node:20-bookworm-slim');
  });

  it('pins every base image to a tag that is not latest', () => {
    const stageNames = new Set(dockerfile.stages.map((s) => s.name));
    const images = dockerfile.stages
      .map((s) => s.from)
      .filter((f) => !f.includes('$') && !stageNames.has(f));
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) {
      expect(image, image).toMatch(/^[\w./-]+:[\w.-]+(@sha256:[0-9a-f]{64})?$/);
      expect(image, image).not.toMatch(/:latest\b/);
    }
  });

  it('installs the pinned pnpm, fetches by lockfile, installs offline, then builds the app', () => {
    const all = buildRuns.join('\n');
    expect(all).toContain(`corepack prepare pnpm@${pnpmVersion} --activate`);
    const steps = build?.instructions.map((i) => `${i.keyword} ${i.args}`) ?? [];
    const at = (re: RegExp) => steps.findIndex((s) => re.test(s));
    const fetch = at(/^RUN pnpm fetch\b/);
    const copyAll = at(/^COPY \. \.$/);
    const install = at(/^RUN pnpm install --frozen-lockfile --offline$/);
    const buildApp = at(/^RUN pnpm --filter "@agentry\/\$\{APP\}" build$/);
    expect(at(/^COPY pnpm-lock\.yaml /)).toBeLessThan(fetch);
    expect([fetch, copyAll, install, buildApp].every((i) => i >= 0)).toBe(true);
    expect(fetch).toBeLessThan(copyAll);
    expect(copyAll).toBeLessThan(install);
    expect(install).toBeLessThan(buildApp);
    expect(all).toContain('node --import tsx scripts/docker-prune.ts "apps/${APP}" /out');
  });

  describe.each(apps)('the %s image', (app) => {
    const chain = stageChain(dockerfile, { APP: app });
    const last = <T>(values: T[]) => values.at(-1);

    it('runs on node:20-bookworm-slim, not on the build stage', () => {
      expect(chain[0]?.from).toBe('node:20-bookworm-slim');
      expect(chain.map((s) => s.name)).not.toContain('build');
      expect(chain.at(-1)?.from).toBe('runtime-${APP}');
      expect(chain.map((s) => s.name)).toContain(`runtime-${app}`);
    });

    it('holds only the pruned app and the health check script', () => {
      expect(effective(chain, 'COPY')).toEqual([
        '--from=build /out/ /app/',
        'docker-healthcheck.mjs /app/docker-healthcheck.mjs',
      ]);
      expect(effective(chain, 'ADD')).toEqual([]);
    });

    it('runs node under tini as PID 1, as a non-root user, stopped by SIGTERM', () => {
      expect(last(effective(chain, 'ENTRYPOINT'))).toBe(runtimeEntrypoint);
      expect(effective(chain, 'CMD')).toEqual([]);
      const runs = effective(chain, 'RUN').join('\n');
      expect(runs).toMatch(
        /apt-get update && apt-get install -y --no-install-recommends tini && rm -rf \/var\/lib\/apt\/lists\/\*/,
      );
      expect(last(effective(chain, 'USER'))).toBe('10001:10001');
      expect(runs).toMatch(/groupadd .*--gid 10001/);
      expect(runs).toMatch(/useradd .*--uid 10001/);
      expect(last(effective(chain, 'STOPSIGNAL'))).toBe('SIGTERM');
      expect(effective(chain, 'ENV')).toContain('NODE_ENV=production AGENTRY_ENV=production');
    });

    it('carries OCI labels from build arguments', () => {
      const labels = effective(chain, 'LABEL').join(' ');
      const stageArgs = effective(chain, 'ARG').map((a) => a.split('=')[0]);
      for (const [label, arg] of [
        ['source', 'SOURCE'],
        ['revision', 'REVISION'],
        ['version', 'VERSION'],
      ]) {
        expect(labels).toContain(`org.opencontainers.image.${label}="\${${arg}}"`);
        expect(stageArgs).toContain(arg);
      }
    });

    it('probes /healthz on its own port (none for the cli)', () => {
      const healthcheck = last(effective(chain, 'HEALTHCHECK'));
      const expose = effective(chain, 'EXPOSE');
      if (app === 'cli') {
        expect(healthcheck).toBe('NONE');
        expect(expose).toEqual([]);
        return;
      }
      const kind = app === 'api' ? 'api' : 'worker';
      expect(healthcheck).toMatch(
        /^--interval=\d+s --timeout=5s --start-period=\d+s --retries=\d+ /,
      );
      expect(healthcheck).toMatch(
        new RegExp(`CMD \\["node", "/app/docker-healthcheck\\.mjs", "${kind}"\\]$`),
      );
      expect(expose).toEqual([app === 'api' ? '8080' : '9464']);
    });
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('keeps installs, builds, git history and env files out of the build context', () => {
    for (const p of ['**/node_modules', '**/dist', '.git', '.env', '.env.*']) {
      expect(patterns, p).toContain(p);
    }
  });

  it('keeps what the build needs', () => {
    for (const file of [
      'pnpm-lock.yaml',
      'pnpm-workspace.yaml',
      '.npmrc',
      'package.json',
      'tsconfig.base.json',
      'tsup.base.ts',
      'docker-healthcheck.mjs',
      'apps',
      'packages',
    ]) {
      expect(patterns, file).not.toContain(file);
      expect(existsSync(join(repoRoot, file)), file).toBe(true);
    }
    expect(patterns).toContain('scripts/*');
    expect(patterns.at(-1)).toBe('!scripts/docker-prune.ts');
  });
});

// ---------------------------------------------------------------------------------------------
// What the runtime stage holds, run as the image runs it: the app built as the build stage builds
// it, laid out by the same script into an empty directory outside the repository (so nothing of
// the workspace's node_modules can be found), started with the image's environment.
// ---------------------------------------------------------------------------------------------

/** The pnpm running this test (`pnpm test` sets npm_execpath; .ci/run has no global pnpm). */
const pnpm: [string, ...string[]] = /pnpm/.test(process.env.npm_execpath ?? '')
  ? [process.execPath, process.env.npm_execpath ?? '']
  : ['pnpm'];
const redisUrl = process.env.AGENTRY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const databaseUrl =
  process.env.AGENTRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The ENV of the Dockerfile's runtime stage. */
const imageEnv = Object.fromEntries(
  effective(stageChain(dockerfile, { APP: 'planner' }), 'ENV')
    .flatMap((e) => e.split(/\s+/))
    .map((pair) => pair.split('=') as [string, string]),
);

interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(
  file: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<Exec> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: options.env ?? process.env, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

/** One process of an image: `node /app/dist/main.js <args>` in the image's directory. */
class ImageProcess {
  readonly lines: Record<string, unknown>[] = [];
  readonly output: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #child: ChildProcess;

  constructor(appDir: string, args: string[], env: Record<string, string>) {
    // Only what a container gets: PATH, the image's ENV and the given variables.
    this.#child = spawn(process.execPath, [join(appDir, 'dist', 'main.js'), ...args], {
      cwd: appDir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: appDir, ...imageEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.output.push(chunk);
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(text) as Record<string, unknown>);
        } catch {
          this.lines.push({ msg: text });
        }
      }
    });
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.output.push(chunk));
    this.exited = new Promise((resolve) =>
      this.#child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /** The first log line matching `test`, within `timeoutMs`. */
  async waitFor(test: (l: Record<string, unknown>) => boolean, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find(test);
      if (line) return line;
      if (this.#child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`no matching line (exit ${this.#child.exitCode}):\n${this.log()}`);
      }
      await sleep(50);
    }
  }

  log(): string {
    return this.output.join('').slice(-4_000);
  }

  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  /** SIGKILL if still running (afterAll). */
  async kill(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGKILL');
      await this.exited;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForStatus(
  url: string,
  status: number,
  init: RequestInit = {},
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(3_000) });
      const body = await res.text();
      if (res.status === status) return { res, body };
      last = `${res.status} ${body.slice(0, 500)}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) throw new Error(`${url}: never ${status}; last: ${last}`);
    await sleep(100);
  }
}

/** Run the image's health check script as Docker does, with the container's environment. */
function healthcheck(appDir: string, kind: 'worker' | 'api', env: Record<string, string>) {
  return exec(process.execPath, [join(appDir, 'docker-healthcheck.mjs'), kind], {
    cwd: appDir,
    env: { PATH: process.env.PATH ?? '', ...imageEnv, ...env },
  });
}

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

describe('the image contents, run as the image runs them', () => {
  let root = '';
  let database: TestDatabase;
  const prefix = `t-image-${randomBytes(4).toString('hex')}`;
  const processes: ImageProcess[] = [];
  const images = new Map<App, string>();

  /** Build `app` as the build stage does and lay it out as the runtime stage holds it. */
  async function image(app: App): Promise<string> {
    const dist = join(root, app, 'build');
    const built = await exec(
      pnpm[0],
      [...pnpm.slice(1), '--filter', `@agentry/${app}`, 'build', '--out-dir', dist],
      { cwd: repoRoot },
    );
    expect(built.code, built.stdout + built.stderr).toBe(0);
    const appDir = join(root, app, 'app');
    const pruned = await exec(
      process.execPath,
      ['--import', 'tsx', 'scripts/docker-prune.ts', `apps/${app}`, appDir, '--dist', dist],
      { cwd: repoRoot },
    );
    expect(pruned.code, pruned.stdout + pruned.stderr).toBe(0);
    await copyFile(
      join(repoRoot, 'docker-healthcheck.mjs'),
      join(appDir, 'docker-healthcheck.mjs'),
    );
    images.set(app, appDir);
    return appDir;
  }

  function start(app: App, args: string[], env: Record<string, string> = {}): ImageProcess {
    const appDir = images.get(app);
    if (appDir === undefined) throw new Error(`${app}: no image yet`);
    const p = new ImageProcess(appDir, args, env);
    processes.push(p);
    return p;
  }

  const fleetEnv = () => ({
    DATABASE_URL: databaseUrl,
    AGENTRY_DB_SCHEMA: database.schema,
    AGENTRY_REDIS_URL: redisUrl,
    AGENTRY_QUEUE_PREFIX: prefix,
    AGENTRY_HEALTH_PORT: '0',
    AGENTRY_RECONCILE_INTERVAL_MS: '0',
    AGENTRY_SHUTDOWN_DEADLINE_MS: '5000',
    AGENTRY_LOG_LEVEL: 'info',
  });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'agentry-image-'));
    // A node_modules above the directory would let a missing package resolve after all.
    for (let dir = root; dirname(dir) !== dir; dir = dirname(dir)) {
      expect(existsSync(join(dirname(dir), 'node_modules')), dirname(dir)).toBe(false);
    }
    database = await createTestDatabase({ prefix: 't_image' });
    await Promise.all(apps.map((app) => image(app)));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
    await deleteKeys(`{${prefix}}`, redisUrl);
    await database?.close();
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  it('holds the bundle without source maps, and node_modules only for external packages', async () => {
    for (const app of ['planner', 'executor'] as const) {
      const tree = await listTree(images.get(app) ?? '');
      expect(tree, app).toContain(join('dist', 'main.js'));
      expect(
        tree.filter((f) => f.endsWith('.map')),
        app,
      ).toEqual([]);
      expect(
        tree.filter((f) => !f.startsWith('dist')),
        app,
      ).toEqual(['docker-healthcheck.mjs']);
    }
    for (const app of ['api', 'cli'] as const) {
      const modules = await readdir(join(images.get(app) ?? '', 'node_modules'));
      // Bull Board reads its UI files from its packages, so tsup leaves it external.
      expect(modules, app).toContain('@bull-board');
      for (const absent of ['@agentry', '@electric-sql', 'typescript', 'tsup', 'vitest', '.pnpm']) {
        expect(modules, app).not.toContain(absent);
      }
    }
  });

  describe.each(['planner', 'executor'] as const)('%s', (app) => {
    it('gets ready, passes the health check and exits 0 on SIGTERM within the deadline', async () => {
      const p = start(app, [], fleetEnv());
      const listening = await p.waitFor((l) => l.msg === 'health server listening');
      const port = String(listening.port);
      const ready = await waitForStatus(`http://127.0.0.1:${port}/readyz`, 200);
      expect(JSON.parse(ready.body)).toMatchObject({ status: 'ready' });
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(await metrics.text()).toMatch(new RegExp(`component="${app}"`));

      const check = await healthcheck(images.get(app) ?? '', 'worker', {
        AGENTRY_HEALTH_PORT: port,
      });
      expect(check.code, check.stderr).toBe(0);

      const stopping = Date.now();
      p.signal('SIGTERM');
      expect(await p.exited).toEqual({ code: 0, signal: null });
      expect(Date.now() - stopping).toBeLessThan(5_000 + 2_000);
      const after = await healthcheck(images.get(app) ?? '', 'worker', {
        AGENTRY_HEALTH_PORT: port,
      });
      expect(after.code).toBe(1);
    }, 40_000);
  });

  it('refuses to start without DATABASE_URL: the embedded database is not in the image', async () => {
    const { DATABASE_URL: _, AGENTRY_DB_SCHEMA: __, ...env } = fleetEnv();
    const p = start('planner', [], env);
    expect(await p.exited).toEqual({ code: 1, signal: null });
    const fatal = p.lines.find((l) => l.level === 'fatal' || l.level === 60);
    expect(fatal?.msg, p.log()).toBe('planner failed to start');
    expect(JSON.stringify(fatal)).toContain(
      'DATABASE_URL is not set and the embedded database (PGlite) is not installed here',
    );
  }, 20_000);

  it('api: ready, Bull Board served from its external packages, health check, SIGTERM', async () => {
    const p = start('api', [], {
      ...fleetEnv(),
      AGENTRY_API_HOST: '127.0.0.1',
      AGENTRY_API_PORT: '0',
      AGENTRY_API_TOKEN: 'image-test-token',
      AGENTRY_BOARD_VIEWER_PASSWORD: 'image-test-viewer',
    });
    const listening = await p.waitFor((l) => l.msg === 'api listening');
    const port = String(listening.port);
    const base = `http://127.0.0.1:${port}`;
    await waitForStatus(`${base}/readyz`, 200);

    const viewer = {
      authorization: `Basic ${Buffer.from('viewer:image-test-viewer').toString('base64')}`,
    };
    const page = await waitForStatus(`${base}/admin/queues`, 200, { headers: viewer });
    expect(page.res.headers.get('content-type')).toMatch(/text\/html/);
    // The page's stylesheet, relative to <base href="/admin/queues/">: a file of @bull-board/ui.
    const asset = /href="(static\/css\/[^"]+\.css)"/.exec(page.body)?.[1];
    expect(asset, page.body.slice(0, 1_000)).toBeDefined();
    await waitForStatus(`${base}/admin/queues/${asset ?? ''}`, 200, { headers: viewer });
    const queues = await waitForStatus(`${base}/admin/queues/api/queues`, 200, { headers: viewer });
    expect(queues.body).toContain('agentry.plan');

    const check = await healthcheck(images.get('api') ?? '', 'api', { AGENTRY_API_PORT: port });
    expect(check.code, check.stderr).toBe(0);

    p.signal('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
  }, 40_000);

  it('cli: migrate status reads the database', async () => {
    const p = start('cli', ['migrate', 'status'], fleetEnv());
    expect(await p.exited, p.log()).toEqual({ code: 0, signal: null });
    const out = p.output.join('');
    expect(out).toContain(`schema=${database.schema}`);
    // createTestDatabase migrated the schema: every migration has a time.
    expect(out).toMatch(/0001-core-tables\s+\d{4}-\d{2}-\d{2}/);
  }, 20_000);

  it('cli: fake-llm serves until SIGTERM, then exits 0', async () => {
    const p = start('cli', ['fake-llm', '--port', '0'], {});
    const line = await p.waitFor((l) => String(l.msg).startsWith('fake LLM server on '));
    const url = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(String(line.msg))?.[1];
    const stats = await waitForStatus(`${url ?? ''}/_fake/stats`, 200);
    expect(JSON.parse(stats.body)).toMatchObject({ requests: 0 });
    p.signal('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
  }, 20_000);
});
