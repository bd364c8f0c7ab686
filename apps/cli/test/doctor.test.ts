import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@agentry/db/testing';
import { deleteKeys } from '@agentry/queue/testing';
import { judgeClockSkew } from '../src/doctor/judge-clock-skew';
import { runCli } from './support/cli-fleet';

const redisUrl = process.env.AGENTRY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const databaseUrl =
  process.env.AGENTRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The line of `check` in doctor's output, and its `fix:` line when it has one. */
function lineOf(out: string, check: string): { line: string; fix: string | undefined } {
  const lines = out.split('\n');
  const i = lines.findIndex((l) => l.split(/\s+/)[1] === check);
  if (i < 0) throw new Error(`no line for ${check} in:\n${out}`);
  const next = lines[i + 1];
  return {
    line: lines[i] ?? '',
    fix: next?.startsWith('      fix: ') ? next.slice(11) : undefined,
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A throwaway redis-server that evicts and does not persist, in the foreground. */
async function startEvictingRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--maxmemory',
      '10mb',
      '--maxmemory-policy',
      'allkeys-lru',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--dir',
      dir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start:\n${out}`)),
      10_000,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${out}`));
    });
  });
  return child;
}

/** `agentry doctor` against the real Redis and Postgres, and a second Redis set up badly. */
describe('agentry doctor', () => {
  let migrated: TestDatabase;
  let unmigrated: TestDatabase;
  const prefix = `t-doctor-${randomBytes(4).toString('hex')}`;
  const envFor = (schema: string, redis = redisUrl): Record<string, string> => ({
    AGENTRY_ENV: 'test',
    AGENTRY_REDIS_URL: redis,
    AGENTRY_QUEUE_PREFIX: prefix,
    DATABASE_URL: databaseUrl,
    AGENTRY_DB_SCHEMA: schema,
  });

  beforeAll(async () => {
    migrated = await createTestDatabase({ prefix: 't_doctor' });
    unmigrated = await createTestDatabase({ prefix: 't_doctor', migrate: false });
  });
  afterAll(async () => {
    await migrated?.close();
    await unmigrated?.close();
  });

  it('passes Redis, Postgres, migrations, dead letters and clocks on a healthy setup; exit 0', async () => {
    const { out, exitCode } = await runCli(['doctor'], envFor(migrated.schema));
    expect(lineOf(out, 'redis').line).toMatch(
      /^PASS {2}redis\s+Redis \d+\.\d+\.\d+ at redis:\/\/127\.0\.0\.1:\d+$/,
    );
    expect(lineOf(out, 'redis.eviction').line).toMatch(/^PASS .*maxmemory-policy noeviction$/);
    expect(lineOf(out, 'postgres').line).toMatch(
      new RegExp(`^PASS .*PostgreSQL \\d+\\.\\d+ at postgres 127\\.0\\.0\\.1:5432/test`),
    );
    expect(lineOf(out, 'postgres.migrations').line).toMatch(
      /^PASS .*all \d+ migrations applied \(latest \d{4}-/,
    );
    expect(lineOf(out, 'dead-letters').line).toMatch(/^PASS .*no unreplayed dead letters$/);
    expect(lineOf(out, 'secrets').line).toMatch(/^PASS .*no secret references configured$/);
    expect(lineOf(out, 'tools').line).toMatch(/^PASS .*built-in tools only/);
    expect(lineOf(out, 'clock').line).toMatch(
      /^PASS .*Redis [+-]0\.\d{3} s, Postgres [+-]0\.\d{3} s against this host$/,
    );
    // No planner or executor runs here: the worked queues say so, and who to start.
    const step = lineOf(out, 'queue:agentry.step');
    expect(step.line).toMatch(/^WARN .*no worker connected: waiting 0, prioritized 0, delayed 0/);
    expect(step.fix).toMatch(/start the executor/);
    expect(lineOf(out, 'queue:agentry.plan').fix).toMatch(/start the planner/);
    expect(lineOf(out, 'queue:agentry.dlq').line).toMatch(/^PASS .*no worker by design/);
    expect(out.split('\n').at(-1)).toMatch(/^0 failed, \d+ warning\(s\), \d+ passed/);
    expect(exitCode).toBe(0);

    const json = await runCli(['doctor', '--json'], envFor(migrated.schema));
    const report = JSON.parse(json.out) as {
      ok: boolean;
      checks: Array<{ check: string; status: string; finding: string; fix?: string }>;
    };
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.check)).toEqual([
      'redis',
      'redis.eviction',
      'redis.persistence',
      'redis.memory',
      'postgres',
      'postgres.migrations',
      'queue:agentry.plan',
      'queue:agentry.step',
      'queue:agentry.dlq',
      'dead-letters',
      'secrets',
      'tools',
      'clock',
    ]);
    expect(report.checks.find((c) => c.check === 'postgres.migrations')?.status).toBe('pass');
  });

  it('fails the migration check of a schema with pending migrations, naming them and the fix; exit 1', async () => {
    const { out, exitCode } = await runCli(['doctor'], envFor(unmigrated.schema));
    const migrations = lineOf(out, 'postgres.migrations');
    expect(migrations.line).toMatch(
      /^FAIL .*(\d+) of \1 migrations pending: 0001-core-tables, 0002-step-functions/,
    );
    expect(migrations.fix).toBe(
      `agentry migrate up (with this DATABASE_URL and AGENTRY_DB_SCHEMA=${unmigrated.schema}); workers never migrate on boot`,
    );
    expect(lineOf(out, 'postgres').line).toMatch(/^PASS /);
    expect(lineOf(out, 'dead-letters').line).toMatch(/^SKIP .*migrations pending/);
    expect(exitCode).toBe(1);
  });

  it('warns about a queue whose oldest job has waited longer than --max-wait', async () => {
    const base = `t-doctor-wait-${randomBytes(4).toString('hex')}`;
    const { hostname, port } = new URL(redisUrl);
    const queue = new Queue('agentry.step', {
      connection: { host: hostname, port: Number(port || 6379) },
      prefix: `{${base}}`,
    });
    try {
      await queue.add(
        'step',
        { stale: true },
        { jobId: 'stale-1', timestamp: Date.now() - 600_000 },
      );
      const env = { ...envFor(migrated.schema), AGENTRY_QUEUE_PREFIX: base };
      const step = lineOf((await runCli(['doctor'], env)).out, 'queue:agentry.step');
      expect(step.line).toMatch(
        /^WARN .*no worker connected; the oldest waiting job has waited 10\.0 min: waiting 1, .*oldest waiting 600 s/,
      );
      expect(step.fix).toMatch(/start the executor .*; add workers to the executor/);
      // Ten minutes is within a generous threshold.
      const relaxed = await runCli(['doctor', '--max-wait', '3600'], env);
      expect(lineOf(relaxed.out, 'queue:agentry.step').line).not.toMatch(/has waited/);
    } finally {
      await queue.close();
      await deleteKeys(`{${base}}`, redisUrl);
    }
  });

  describe('on a Redis that evicts keys and does not persist', () => {
    let redis: ChildProcess | undefined;
    let dir = '';
    let port = 0;
    beforeAll(async () => {
      port = await freePort();
      dir = await mkdtemp(join(tmpdir(), 'agentry-doctor-redis-'));
      redis = await startEvictingRedis(port, dir);
    });
    afterAll(async () => {
      if (redis && redis.exitCode === null) {
        const exited = new Promise((resolve) => redis?.once('exit', resolve));
        redis.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    });

    it('fails the eviction policy and warns on persistence, each with its fix; writes nothing', async () => {
      const { out, exitCode } = await runCli(
        ['doctor'],
        envFor(migrated.schema, `redis://127.0.0.1:${port}`),
      );
      const eviction = lineOf(out, 'redis.eviction');
      expect(eviction.line).toMatch(/^FAIL .*maxmemory-policy is allkeys-lru: .*loses jobs/);
      expect(eviction.fix).toContain('CONFIG SET maxmemory-policy noeviction');
      expect(eviction.fix).toContain('redis.conf line: "maxmemory-policy noeviction"');
      const persistence = lineOf(out, 'redis.persistence');
      expect(persistence.line).toMatch(/^WARN .*no persistence .*vanishes when Redis restarts/);
      expect(persistence.fix).toContain('CONFIG SET appendonly yes');
      expect(persistence.fix).toContain('"appendonly yes"');
      expect(lineOf(out, 'redis.memory').line).toMatch(
        /^PASS .*used [\d.]+ MiB of 10\.0 MiB \(\d+ %\)$/,
      );
      expect(lineOf(out, 'redis').line).toMatch(
        new RegExp(`^PASS .* at redis://127\\.0\\.0\\.1:${port}$`),
      );
      expect(exitCode).toBe(1);
      // Doctor only reads: no queue meta or any other key was created.
      const { stdout } = await promisify(execFile)('redis-cli', ['-p', String(port), 'dbsize']);
      expect(stdout.trim()).toBe('0');
    });
  });

  it('fails an unreachable Redis with the variable to correct and skips what needs it', async () => {
    const port = await freePort();
    const { out, exitCode } = await runCli(
      ['doctor', '--timeout', '5000'],
      envFor(migrated.schema, `redis://127.0.0.1:${port}`),
    );
    const redis = lineOf(out, 'redis');
    expect(redis.line).toMatch(
      new RegExp(`^FAIL .*cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );
    expect(redis.fix).toMatch(/correct AGENTRY_REDIS_URL/);
    for (const check of ['redis.eviction', 'queue:agentry.step']) {
      expect(lineOf(out, check).line).toMatch(/^SKIP .*Redis is unreachable/);
    }
    // Postgres still answers, so the clocks are still compared with it.
    expect(lineOf(out, 'clock').line).toMatch(/^PASS .*Postgres [+-]0\.\d{3} s against this host$/);
    expect(exitCode).toBe(1);
  });

  it("checks AGENTRY_TOOLS_MODULE: names the module's tools, or fails with what would stop the fleet", async () => {
    const fixture = join(import.meta.dirname, '../../executor/test/fixtures/acme-tools.mjs');
    const good = await runCli(['doctor'], {
      ...envFor(migrated.schema),
      AGENTRY_TOOLS_MODULE: fixture,
    });
    expect(lineOf(good.out, 'tools').line).toMatch(
      /^PASS .*1 tool\(s\) from .*acme-tools\.mjs beside the built-ins: acme\.note$/,
    );

    const missing = join(tmpdir(), `no-such-tools-${randomBytes(4).toString('hex')}.mjs`);
    const bad = await runCli(['doctor'], {
      ...envFor(migrated.schema),
      AGENTRY_TOOLS_MODULE: missing,
    });
    const tools = lineOf(bad.out, 'tools');
    expect(tools.line).toMatch(/^FAIL .*AGENTRY_TOOLS_MODULE .*no-such-tools-.*: cannot be loaded/);
    expect(tools.fix).toMatch(/does not start/);
    expect(bad.exitCode).toBe(1);
  });

  it('reports an invalid environment as config failures before connecting anywhere', async () => {
    const { out, exitCode } = await runCli(['doctor'], {
      AGENTRY_REDIS_URL: 'not a url',
      AGENTRY_QUEUE_PREFIX: 'has{braces}',
    });
    expect(lineOf(out, 'config').line).toMatch(/^FAIL .*AGENTRY_REDIS_URL: /);
    expect(out).toMatch(/FAIL {2}config\s+AGENTRY_QUEUE_PREFIX: /);
    expect(out).toContain('fix: set AGENTRY_REDIS_URL to a valid value');
    expect(exitCode).toBe(1);
  });
});

describe('judgeClockSkew', () => {
  it('passes within a second', () => {
    expect(
      judgeClockSkew([
        { source: 'Redis', skewMs: 3 },
        { source: 'Postgres', skewMs: -999 },
      ]),
    ).toEqual({ status: 'pass', finding: 'Redis +0.003 s, Postgres -0.999 s against this host' });
  });

  it('blames this host when Redis and Postgres agree with each other', () => {
    const finding = judgeClockSkew([
      { source: 'Redis', skewMs: 6_200 },
      { source: 'Postgres', skewMs: 6_000 },
    ]);
    expect(finding.status).toBe('fail');
    expect(finding.finding).toContain("this host's clock is 6.1 s behind");
    expect(finding.fix).toMatch(/^sync this host's clock with NTP/);
  });

  it('blames the one remote that disagrees, and warns between 1 and 5 s', () => {
    const finding = judgeClockSkew([
      { source: 'Redis', skewMs: 10 },
      { source: 'Postgres', skewMs: -2_500 },
    ]);
    expect(finding.status).toBe('warn');
    expect(finding.finding).toContain("Postgres's clock is 2.5 s behind (the other agrees");
    expect(finding.fix).toMatch(/^sync the clock of Postgres's host/);
  });

  it('cannot tell who is off with one remote, or when all three disagree', () => {
    expect(judgeClockSkew([{ source: 'Redis', skewMs: 1_500 }]).finding).toContain(
      'Redis and this host disagree',
    );
    expect(
      judgeClockSkew([
        { source: 'Redis', skewMs: 8_000 },
        { source: 'Postgres', skewMs: -8_000 },
      ]).finding,
    ).toContain('Redis and Postgres and this host disagree');
  });
});
