import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { evaluate, parseExpr } from '../../../tests/ops/promql';
import { spawnCli } from './support/cli-fleet';
import { startFakePrometheus, type FakePrometheus } from './support/fake-prometheus';
import { recordFleet, type TrackSpec } from './support/fake-prometheus-fleet';

const baseline: TrackSpec = { track: 'stable', targets: 3, stepsPerMinute: 600, errorRate: 0.001 };
const healthy: TrackSpec = { track: 'canary', targets: 2, stepsPerMinute: 300, errorRate: 0.001 };

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** `agentry canary analyze` as a process against a fake Prometheus serving recorded series. */
describe('agentry canary analyze', () => {
  let prometheus: FakePrometheus;
  let end = 0;
  const env = () => ({ AGENTRY_ENV: 'test', AGENTRY_PROMETHEUS_URL: prometheus.url });

  /** Record 20 minutes of the fleet ending now; returns `--at` for the recording's end. */
  const record = (...tracks: TrackSpec[]) => {
    const { series, durationMs } = recordFleet(tracks);
    const startMs = Date.now() - durationMs;
    prometheus.record(series, startMs);
    end = (startMs + durationMs) / 1_000;
    return ['--at', String(end)];
  };
  const analyze = (args: string[], extraEnv: Record<string, string> = {}) =>
    spawnCli(['canary', 'analyze', ...args], { ...env(), ...extraEnv });
  /** The table row of `check`: [check, verdict, canary, baseline, threshold…]. */
  const row = (out: string, check: string) =>
    out
      .split('\n')
      .find((l) => l.startsWith(`${check} `))
      ?.split(/\s{2,}/);

  beforeAll(async () => {
    prometheus = await startFakePrometheus();
  });
  afterEach(() => {
    prometheus.heal();
    prometheus.requireBearer(undefined);
    prometheus.requests.length = 0;
  });
  afterAll(async () => {
    await prometheus?.close();
  });

  it('promotes a healthy canary: exit 0, a table of every check', async () => {
    record(baseline, healthy);
    const { stdout, exitCode } = await analyze([]);
    expect(stdout).toMatch(/^canary analysis: PROMOTE \(exit 0\)$/m);
    expect(stdout).toContain('canary {track="canary"} against baseline {track="stable"}');
    expect(stdout).toMatch(/^CHECK\s+VERDICT\s+CANARY\s+BASELINE\s+THRESHOLD$/m);
    expect(row(stdout, 'traffic')).toEqual([
      'traffic',
      'PASS',
      expect.stringMatching(/^1[45]\d\d$/),
      expect.stringMatching(/^[23]\d\d\d$/),
      '>= 50 steps',
    ]);
    expect(row(stdout, 'error-rate')?.slice(0, 2)).toEqual(['error-rate', 'PASS']);
    expect(row(stdout, 'p95-latency')).toEqual([
      'p95-latency',
      'PASS',
      '98 ms',
      '98 ms',
      '<= 500 ms',
    ]);
    expect(row(stdout, 'targets-up')).toEqual(['targets-up', 'PASS', '0', '0', '0 targets down']);
    expect(stdout).toContain('  - all 8 judged checks passed');
    expect(exitCode).toBe(0);
    // Ten queries, all at one instant (now, no --at), every selector carrying the track.
    const queries = prometheus.requests.map((r) => r.query ?? '');
    expect(queries).toHaveLength(10);
    expect(new Set(prometheus.requests.map((r) => r.time)).size).toBe(1);
    expect(Math.abs((prometheus.requests[0]?.time ?? 0) - Date.now() / 1_000)).toBeLessThan(30);
    expect(queries.filter((q) => q.includes('track="canary"'))).toHaveLength(5);
    expect(queries.filter((q) => q.includes('track="stable"'))).toHaveLength(5);
  });

  it('rolls back a canary failing 5% of its steps: exit 2, the reason names the error rate', async () => {
    const at = record(baseline, { ...healthy, errorRate: 0.05 });
    const { stdout, exitCode } = await analyze(at);
    expect(exitCode).toBe(2);
    expect(stdout).toMatch(/^canary analysis: ROLLBACK \(exit 2\)$/m);
    expect(row(stdout, 'error-rate')).toEqual([
      'error-rate',
      'FAIL',
      expect.stringMatching(/^5\.\d\d%$/),
      expect.stringMatching(/^0\.\d\d%$/),
      '<= 1.00%',
    ]);
    expect(stdout).toMatch(
      /- error-rate: 5\.\d\d% of the canary's \d+ step executions failed, above 1\.00%/,
    );
  });

  it('rolls back a slow canary (p95 900 ms and more): exit 2', async () => {
    const at = record(baseline, { ...healthy, latencyMs: 900 });
    const { stdout, exitCode } = await analyze(at);
    expect(exitCode).toBe(2);
    expect(row(stdout, 'p95-latency')).toEqual([
      'p95-latency',
      'FAIL',
      '975 ms',
      '98 ms',
      '<= 500 ms',
    ]);
    expect(stdout).toContain(
      "- p95-latency: the canary's p95 step latency is 975 ms, above 500 ms",
    );
  });

  it('rolls back a canary worse than a healthy baseline by the margins, under the absolute limits', async () => {
    const at = record(baseline, { ...healthy, errorRate: 0.009 });
    const errors = await analyze(at);
    expect(errors.exitCode).toBe(2);
    expect(row(errors.stdout, 'error-rate')?.[1]).toBe('PASS');
    expect(row(errors.stdout, 'error-rate-vs-baseline')?.[1]).toBe('FAIL');
    expect(errors.stdout).toMatch(
      /- error-rate-vs-baseline: the canary's error rate 0\.\d\d% is more than the baseline's 0\.1\d% \+ 0\.50 pp and more than 1\.5 × it/,
    );

    const at2 = record(baseline, { ...healthy, latencyMs: 200 });
    const slower = await analyze(at2);
    expect(slower.exitCode).toBe(2);
    expect(row(slower.stdout, 'p95-latency')?.[1]).toBe('PASS');
    expect(row(slower.stdout, 'p95-vs-baseline')).toEqual([
      'p95-vs-baseline',
      'FAIL',
      '243 ms',
      '98 ms',
      '<= 148 ms = max(baseline × 1.25, baseline + 50 ms)',
    ]);
    // The margins are flags.
    const relaxed = await analyze([...at2, '--p95-factor', '3']);
    expect(relaxed.exitCode).toBe(0);
  });

  it('calls too little traffic inconclusive: exit 3, never a pass', async () => {
    const at = record(baseline, { ...healthy, stepsPerMinute: 6 });
    const { stdout, exitCode } = await analyze(at);
    expect(exitCode).toBe(3);
    expect(stdout).toMatch(/^canary analysis: INCONCLUSIVE \(exit 3\)$/m);
    expect(stdout).toMatch(
      /- traffic: only \d\d step executions ended on the canary in the window; at least 50 are needed to judge it/,
    );
    expect(row(stdout, 'error-rate')?.[1]).toBe('SKIP');
    expect((await analyze([...at, '--min-steps', '20'])).exitCode).toBe(0);
  });

  it('rolls back when a canary target was down during the window: exit 2, naming it', async () => {
    const at = record(baseline, { ...healthy, down: { from: 17, to: 18 } });
    const { stdout, exitCode } = await analyze(at);
    expect(exitCode).toBe(2);
    expect(row(stdout, 'targets-up')?.slice(0, 4)).toEqual(['targets-up', 'FAIL', '1', '0']);
    expect(stdout).toContain(
      '- targets-up: 1 of 2 canary targets failed a scrape in the window: canary-0:9464',
    );
    // Down before the window: not this window's business.
    expect((await analyze([...at, '--window', '2m'])).exitCode).toBe(0);
  });

  it('rolls back when a canary process restarted in the window: exit 2', async () => {
    const at = record(baseline, { ...healthy, restartAt: 18 });
    const { stdout, exitCode } = await analyze(at);
    expect(exitCode).toBe(2);
    expect(stdout).toContain(
      '- restarts: canary processes restarted in the window: canary-0:9464 1',
    );
  });

  it('rolls back on a dead letter appearing on the canary, which increase() alone misses: exit 2', async () => {
    const at = record(baseline, { ...healthy, deadLetterAt: 17 });
    const { stdout, exitCode } = await analyze(at);
    expect(exitCode).toBe(2);
    expect(row(stdout, 'dead-letters')?.slice(0, 4)).toEqual(['dead-letters', 'FAIL', '1', '0']);
    expect(stdout).toContain(
      '- dead-letters: jobs were dead-lettered on the canary in the window: agentry.step 1',
    );
    // The series appeared at 1: increase() over the window sees no growth.
    const { series, durationMs } = recordFleet([{ ...healthy, deadLetterAt: 17 }]);
    const naive = evaluate(
      parseExpr('sum(increase(agentry_queue_dead_letters_total{track="canary"}[5m]))'),
      series,
      durationMs,
    );
    expect(naive).toEqual({ kind: 'vector', samples: [{ labels: {}, v: 0 }] });
    // A dead letter from before the window is not counted again.
    const earlier = record(baseline, { ...healthy, deadLetterAt: 5 });
    expect((await analyze(earlier)).exitCode).toBe(0);
  });

  it('retries Prometheus answering 500, and decides once it recovers', async () => {
    const at = record(baseline, healthy);
    prometheus.inject({ kind: 'status', status: 500 }, 2);
    prometheus.inject({ kind: 'reset' });
    const { stdout, stderr, exitCode } = await analyze(at);
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/PROMOTE/);
    expect(stderr).toMatch(
      /prometheus: attempt 1 failed \(Prometheus at http:\/\/127\.0\.0\.1:\d+ answered 500: .*\); retrying in \d+ ms/,
    );
    expect(stderr).toMatch(/is unreachable: .*retrying/);
    const outcomes = prometheus.requests.map((r) => r.outcome);
    expect(outcomes.filter((o) => o === 500)).toHaveLength(2);
    expect(outcomes.filter((o) => o === 200)).toHaveLength(10);
  });

  it('exits 1 with a clear message when Prometheus stays down, after 3 attempts', async () => {
    const port = await closedPort();
    const started = Date.now();
    const { stdout, stderr, exitCode } = await analyze([], {
      AGENTRY_PROMETHEUS_URL: `http://127.0.0.1:${port}`,
    });
    expect(exitCode).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      new RegExp(
        `agentry: \\[UNAVAILABLE\\] Prometheus at http://127\\.0\\.0\\.1:${port} is unreachable: ECONNREFUSED \\(gave up after 3 attempts\\)`,
      ),
    );
    expect(Date.now() - started).toBeLessThan(15_000);

    record(baseline, healthy);
    prometheus.breakDown({ kind: 'status', status: 503 });
    const unavailable = await analyze([]);
    expect(unavailable.exitCode).toBe(1);
    expect(unavailable.stderr).toMatch(
      /\[UNAVAILABLE\] Prometheus at .* answered 503: .*\(gave up after 3 attempts\)/,
    );
  });

  it('exits 1 within the timeout when Prometheus hangs; a timed-out query is not retried', async () => {
    record(baseline, healthy);
    prometheus.breakDown({ kind: 'hang' });
    const started = Date.now();
    const { stderr, exitCode } = await analyze(['--timeout', '700ms']);
    const took = Date.now() - started;
    expect(exitCode).toBe(1);
    expect(stderr).toMatch(
      /agentry: \[TIMEOUT\] Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer within 0\.7 s/,
    );
    // Process start (~2 s) plus one timeout; the request count shows nothing was retried.
    expect(took).toBeLessThan(12_000);
    expect(prometheus.requests.length).toBeLessThanOrEqual(10);
  });

  it('exits 1 on what is not Prometheus, and on a Prometheus error, with its message', async () => {
    const at = record(baseline, healthy);
    prometheus.breakDown({ kind: 'garbage' });
    const garbage = await analyze(at);
    expect(garbage.exitCode).toBe(1);
    expect(garbage.stderr).toMatch(
      /\[UNAVAILABLE\] Prometheus at .* answered 200 with something that is not its API's JSON: "<html><body>Sign in to continue<\/body><\/html>"/,
    );

    prometheus.heal();
    const body = JSON.stringify({
      status: 'error',
      errorType: 'bad_data',
      error: 'invalid parameter "query": 1:5: parse error',
    });
    prometheus.breakDown({ kind: 'status', status: 400, body });
    const rejected = await analyze(at);
    expect(rejected.exitCode).toBe(1);
    expect(rejected.stderr).toMatch(
      /agentry: \[VALIDATION\] Prometheus at .* answered 400 bad_data: invalid parameter "query": 1:5: parse error\n {2}query: /,
    );
    expect(prometheus.requests.filter((r) => r.outcome === 400).length).toBeLessThanOrEqual(10);
  });

  it('exits 1 on bad flags, before asking Prometheus', async () => {
    const bad = await analyze(['--window', 'five minutes']);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/\[VALIDATION\] --window takes a Prometheus duration such as 5m/);
    const none = await spawnCli(['canary', 'analyze'], { AGENTRY_ENV: 'test' });
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toMatch(/pass --prometheus <url> or set AGENTRY_PROMETHEUS_URL/);
    expect(prometheus.requests).toHaveLength(0);
  });

  it('sends the bearer token of --bearer-token-ref and never prints it', async () => {
    const at = record(baseline, healthy);
    const token = 'prom-token-0001-not-a-secret';
    prometheus.requireBearer(token);
    const dir = await mkdtemp(join(tmpdir(), 'agentry-canary-'));
    await writeFile(join(dir, 'token'), `${token}\n`);
    const ok = await analyze([...at, '--bearer-token-ref', `file://${join(dir, 'token')}`]);
    expect(ok.exitCode).toBe(0);
    expect(prometheus.requests.every((r) => r.authorization === `Bearer ${token}`)).toBe(true);
    expect(ok.stdout + ok.stderr).not.toContain(token);

    const refused = await analyze(at);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(
      /\[POLICY_DENIED\] Prometheus at .* refused the request \(401 unauthorized: no token\): check --bearer-token-ref/,
    );
  });

  it('--json: verdict, exit code, reasons, every check with its values, what was measured and how', async () => {
    const at = record(baseline, { ...healthy, errorRate: 0.05 });
    const { stdout, exitCode } = await analyze([...at, '--json']);
    expect(exitCode).toBe(2);
    const report = JSON.parse(stdout) as Record<string, unknown> & {
      checks: Array<Record<string, unknown>>;
      canary: {
        selector: string;
        measurement: Record<string, unknown>;
        queries: Record<string, string>;
      };
    };
    expect(Object.keys(report)).toEqual([
      'verdict',
      'exitCode',
      'reasons',
      'checks',
      'window',
      'at',
      'prometheus',
      'thresholds',
      'canary',
      'baseline',
    ]);
    expect(report).toMatchObject({
      verdict: 'rollback',
      exitCode: 2,
      reasons: [
        expect.stringMatching(/^error-rate: 5\.\d\d% of the canary's/),
        expect.stringMatching(/^error-rate-vs-baseline: /),
      ],
      window: '5m',
      at: new Date(end * 1_000).toISOString(),
      prometheus: prometheus.url,
      thresholds: {
        maxErrorRate: 0.01,
        maxP95Ms: 500,
        errorRateMargin: 0.005,
        errorRateFactor: 1.5,
        p95Factor: 1.25,
        p95MarginMs: 50,
        minSteps: 50,
      },
    });
    expect(report.checks.map((c) => c.check)).toEqual([
      'traffic',
      'error-rate',
      'error-rate-vs-baseline',
      'p95-latency',
      'p95-vs-baseline',
      'targets-up',
      'restarts',
      'dead-letters',
    ]);
    expect(report.checks[1]).toEqual({
      check: 'error-rate',
      verdict: 'fail',
      unit: 'ratio',
      canary: expect.closeTo(0.05, 2),
      baseline: expect.closeTo(0.001, 2),
      limit: 0.01,
      threshold: '<= 1.00%',
      reason: expect.stringMatching(/above 1\.00%$/),
    });
    expect(report.checks.map((c) => Object.keys(c).join())).toEqual(
      Array(8).fill('check,verdict,unit,canary,baseline,limit,threshold,reason'),
    );
    expect(report.canary.selector).toBe('track="canary"');
    expect(report.canary.measurement).toEqual({
      steps: expect.any(Number),
      failedSteps: expect.any(Number),
      p95Ms: 97.5,
      targets: [
        { target: 'canary-0:9464', minUp: 1 },
        { target: 'canary-1:9464', minUp: 1 },
      ],
      restarts: {},
      deadLetters: {},
    });
    expect(Object.keys(report.canary.queries)).toEqual([
      'steps',
      'p95',
      'up',
      'restarts',
      'deadLetters',
    ]);
    expect(report.canary.queries.up).toBe('min_over_time(up{track="canary"}[5m])');
  });
});
