import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { openDatabase } from '@agentry/db';
import { afterAll, describe, expect, it } from 'vitest';
import type { SoakResult } from '../../scripts/soak/run-soak';
import { parseDuration, parseSoakOptions } from '../../scripts/soak/soak-options';
import { redisUrl } from '../support/fleet';
import { repoRoot } from '../support/fleet-process';

const databaseUrl =
  process.env.AGENTRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** `pnpm soak …` with `--json <file>`; resolves with its exit code, output and result. */
async function soak(args: string[]): Promise<{ code: number; output: string; result: SoakResult }> {
  const dir = await mkdtemp(join(tmpdir(), 'agentry-soak-test-'));
  try {
    const json = join(dir, 'soak.json');
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        'pnpm',
        ['-s', 'soak', ...args, '--json', json, '--log-dir', dir],
        { cwd: repoRoot, maxBuffer: 64 * 2 ** 20 },
        (error, stdout, stderr) =>
          resolve({
            code: error ? Number((error as { code?: unknown }).code ?? 1) : 0,
            output: `${stdout}${stderr}`,
          }),
      );
    });
    const result = JSON.parse(await readFile(json, 'utf8')) as SoakResult;
    return { code, output, result };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('pnpm soak (a short one)', () => {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  afterAll(() => redis.disconnect());

  it('runs the full fleet at a steady rate, passes every criterion with zero lost runs, and leaves nothing behind', async () => {
    const { code, output, result } = await soak([
      '--duration',
      '20s',
      '--warmup',
      '5s',
      '--rate',
      '4',
      '--sample',
      '2s',
    ]);
    expect(
      result.criteria.filter((c) => !c.pass),
      output,
    ).toEqual([]);
    expect(code, output).toBe(0);
    expect(output).toMatch(/soak: PASS/);

    // Zero lost runs, from the figures themselves.
    const { arrivals, invariants } = result;
    expect(arrivals.submitted).toBeGreaterThan(20);
    expect(arrivals.refused).toEqual([]);
    expect(arrivals.accepted).toBe(arrivals.submitted);
    expect(invariants?.violations).toEqual([]);
    expect(invariants?.runs.succeeded).toBe(arrivals.submitted);
    const settled = result.samples.at(-1);
    expect(settled?.phase).toBe('settled');
    expect(settled?.rows.runs).toBe(arrivals.submitted);
    expect(settled?.rows.steps).toBe(4 * arrivals.submitted);
    // Every process was sampled the whole time, and the judged criteria were judged.
    expect(result.processes.map((p) => p.label)).toEqual([
      'api',
      'planner',
      'executor-1',
      'executor-2',
    ]);
    for (const reading of result.rss)
      expect(Object.values(reading.mb).every(Number.isFinite)).toBe(true);
    expect(result.criteria.filter((c) => c.judged).map((c) => c.name)).toHaveLength(3);

    // Its prefix and schema are gone.
    expect(result.cleanup).toEqual([]);
    const [, keys] = await redis.scan('0', 'MATCH', `${result.fleet.prefix}*`, 'COUNT', 100_000);
    expect(keys).toEqual([]);
    const database = await openDatabase({ url: databaseUrl, poolMax: 1 });
    try {
      const schemas = await database.db
        .selectFrom('pg_catalog.pg_namespace' as never)
        .select('nspname' as never)
        .where('nspname' as never, '=', result.fleet.schema as never)
        .execute();
      expect(schemas).toEqual([]);
    } finally {
      await database.close();
    }
  }, 180_000);
});

describe('soak options', () => {
  it('reads durations in seconds or minutes', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('45')).toBe(45_000);
    expect(() => parseDuration('10h')).toThrow(/not a duration/);
  });

  it('defaults to 10 minutes with 2 of warm-up, and refuses what makes no sense', () => {
    expect(parseSoakOptions([])).toMatchObject({
      durationMs: 600_000,
      warmupMs: 120_000,
      sampleEveryMs: 15_000,
      rate: 20,
    });
    expect(parseSoakOptions(['--duration=20s', '--warmup', '5s', '--rate', '4'])).toMatchObject({
      durationMs: 20_000,
      warmupMs: 5_000,
      rate: 4,
      sampleEveryMs: 1_000,
    });
    expect(() => parseSoakOptions(['--warmup', '10m'])).toThrow(/shorter than --duration/);
    expect(() => parseSoakOptions(['--rate', '0'])).toThrow(/--rate/);
    expect(() => parseSoakOptions(['--speed', '3'])).toThrow(/unknown argument/);
  });
});
