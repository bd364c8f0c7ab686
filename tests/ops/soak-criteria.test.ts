import { describe, expect, it } from 'vitest';
import type { InvariantReport } from '../chaos/support/invariants';
import { judgeSoak, type SoakEvidence } from '../../scripts/soak/judge-soak';
import { medianGrowth } from '../../scripts/soak/median-growth';
import { noArrivals } from '../../scripts/soak/open-loop-arrivals';
import type { RssTrace } from '../../scripts/soak/rss-trace';
import type { JobCounts, Sample } from '../../scripts/soak/take-sample';

/**
 * The soak's criteria judged on made-up evidence: each can fail, so a PASS from `pnpm soak` is
 * earned. Defaults describe a healthy 10-minute soak of 1 000 runs.
 */
const cap = 10_000;
const labels = ['api', 'planner', 'executor-1', 'executor-2'];

function jobs(completed: number, waiting = 0): JobCounts {
  return { waiting, active: 0, delayed: 0, prioritized: 0, completed, failed: 0 };
}

function sample(atMs: number, phase: Sample['phase'], over: Partial<Sample> = {}): Sample {
  const queue = (bytes: number, jobKeys: number) => ({
    keys: jobKeys + 8,
    bytes,
    jobKeys,
    jobBytes: bytes,
  });
  return {
    atMs,
    phase,
    rssMb: Object.fromEntries(labels.map((l) => [l, 180])),
    driverRssMb: 200,
    heap: Object.fromEntries(
      labels.map((l) => [
        l,
        { heapUsedMb: 60, heapTotalMb: 80, externalMb: 5, newSpaceMb: 16, oldSpaceMb: 50 },
      ]),
    ),
    cpuSeconds: Object.fromEntries(labels.map((l) => [l, atMs / 10_000])),
    driverCpuSeconds: 1,
    redis: {
      serverUsedBytes: 40e6,
      keys: 2 * cap + 16,
      bytes: 40e6,
      jobKeys: 2 * cap,
      jobBytes: 38e6,
      byQueue: {
        'agentry.plan': queue(20e6, cap),
        'agentry.step': queue(20e6, cap),
        'agentry.dlq': queue(0, 0),
        other: queue(0, 0),
      },
      eventStreams: { 'agentry.plan': cap, 'agentry.step': cap, 'agentry.dlq': 0 },
    },
    jobs: { 'agentry.plan': jobs(cap), 'agentry.step': jobs(cap), 'agentry.dlq': jobs(0) },
    rows: {
      runs: 1_000,
      plans: 1_000,
      steps: 4_000,
      stepAttempts: 4_000,
      deadLetters: 0,
      auditLog: 3,
      toolCharges: 0,
      llmCalls: 0,
      runStates: { succeeded: 1_000 },
      auditTargets: { secret: 3 },
    },
    runs: { submitted: 1_000, accepted: 1_000, refused: 0, finished: 1_000 },
    latency: { finished: 10, p50Ms: 100, p95Ms: 200, maxMs: 300 },
    load1: 1,
    tookMs: 100,
    ...over,
  };
}

/** One reading a second for 10 minutes; `mb(label, t)` gives each process's RSS. */
function trace(mb: (label: string, atMs: number) => number): RssTrace {
  return Array.from({ length: 600 }, (_, i) => ({
    atMs: i * 1_000,
    mb: Object.fromEntries(labels.map((l) => [l, mb(l, i * 1_000)])),
  }));
}

function evidence(over: Partial<SoakEvidence> = {}): SoakEvidence {
  const arrivals = noArrivals();
  arrivals.submitted = 1_000;
  for (let i = 0; i < 1_000; i++)
    arrivals.accepted.push({ tag: `soak-${i}`, kind: 'run', runId: `r${i}` });
  const invariants: InvariantReport = {
    violations: [],
    runs: {
      accepted: 1_000,
      succeeded: 1_000,
      failed: 0,
      failedWithDeadLetter: 0,
      rejected: 0,
      cancelled: 0,
    },
    deadLetters: 0,
    attempts: { succeeded: 4_000 },
    sink: {
      deliveries: 4_000,
      applied: 4_000,
      retriedDeliveries: 0,
      retriedByAnotherWorker: 0,
      duplicateEffects: 0,
      conflictingKeys: 0,
      unkeyed: 0,
      signed: 1_000,
      badSignatures: 0,
    },
    scanned: 1,
  };
  const samples = [
    ...Array.from({ length: 40 }, (_, i) => sample((i + 1) * 15_000, i < 7 ? 'warm-up' : 'steady')),
    sample(610_000, 'settled'),
  ];
  return {
    options: {
      durationMs: 600_000,
      warmupMs: 120_000,
      rate: 20,
      sampleEveryMs: 15_000,
      jsonFile: undefined,
      logDir: undefined,
      heapSnapshots: false,
    },
    samples,
    rss: trace(() => 180),
    arrivals,
    invariants,
    logs: { lines: 0, byLevel: {}, leaks: [] },
    caps: {
      completed: cap,
      events: { 'agentry.plan': cap, 'agentry.step': cap, 'agentry.dlq': cap },
    },
    exited: [],
    interrupted: false,
    ...over,
  };
}

const verdicts = (e: SoakEvidence) =>
  Object.fromEntries(judgeSoak(e).map((c) => [c.name.split(' (')[0], c.pass]));

describe('the soak criteria', () => {
  it('pass on a healthy soak', () => {
    expect(verdicts(evidence())).toEqual({
      'zero lost runs': true,
      'RSS flat after warm-up': true,
      'Redis memory bounded': true,
      'Postgres rows as expected': true,
    });
  });

  it('fail on a lost run, a refused intent, a violated invariant, a leaked secret or an interruption', () => {
    const lost = evidence();
    lost.arrivals.accepted.pop();
    expect(verdicts(lost)['zero lost runs']).toBe(false);
    const refused = evidence();
    refused.arrivals.refused.push('soak-7: HTTP 503');
    expect(verdicts(refused)['zero lost runs']).toBe(false);
    const violated = evidence();
    violated.invariants?.violations.push('3 runs not terminal after 300000 ms');
    expect(verdicts(violated)['zero lost runs']).toBe(false);
    const leaked = evidence({ logs: { lines: 1, byLevel: {}, leaks: ['apiToken in api.log'] } });
    expect(verdicts(leaked)['zero lost runs']).toBe(false);
    expect(verdicts(evidence({ interrupted: true, invariants: undefined }))['zero lost runs']).toBe(
      false,
    );
  });

  it('fail when one process grows 10 % over the steady phase, not on a GC sawtooth of ±10 %', () => {
    // Linear growth of g over the window reads as ⅔ g: the two thirds' middles are ⅔ apart.
    const leaking = trace((l, t) =>
      l === 'executor-2' && t > 120_000 ? 180 * (1 + (0.1 * (t - 120_000)) / 480_000) : 180,
    );
    expect(verdicts(evidence({ rss: leaking }))['RSS flat after warm-up']).toBe(false);
    // Heap grows 36 MB over 40 s, then a major GC gives it back: flat on average.
    const sawtooth = trace((_, t) => 170 + ((t % 40_000) / 40_000) * 36);
    expect(verdicts(evidence({ rss: sawtooth }))['RSS flat after warm-up']).toBe(true);
    expect(verdicts(evidence({ exited: ['planner'] }))['RSS flat after warm-up']).toBe(false);
  });

  it('does not judge RSS growth on a window too short to see past the GC sawtooth, but still fails on an exit', () => {
    const short = { ...evidence().options, durationMs: 20_000, warmupMs: 5_000 };
    const growing = trace((_, t) => 180 + t / 1_000);
    const [, rss] = judgeSoak(evidence({ options: short, rss: growing }));
    expect(rss).toMatchObject({ judged: false, pass: true });
    expect(rss?.detail).toMatch(/not judged/);
    const [, died] = judgeSoak(evidence({ options: short, exited: ['api'] }));
    expect(died).toMatchObject({ judged: false, pass: false });
  });

  it('fail when a completed set passes its cap, a stream its own, or job keys outlive their jobs', () => {
    const withSample = (i: number, s: Sample) => {
      const samples = [...evidence().samples];
      samples[i] = s;
      return evidence({ samples });
    };
    const over = sample(315_000, 'steady', {
      jobs: { 'agentry.plan': jobs(cap + 1), 'agentry.step': jobs(cap), 'agentry.dlq': jobs(0) },
    });
    expect(verdicts(withSample(20, over))['Redis memory bounded']).toBe(false);
    const stream = sample(315_000, 'steady');
    stream.redis.eventStreams['agentry.step'] = 2 * cap;
    expect(verdicts(withSample(20, stream))['Redis memory bounded']).toBe(false);
    const orphans = sample(610_000, 'settled');
    (orphans.redis.byQueue['agentry.step'] ?? { jobKeys: 0 }).jobKeys = cap + 500;
    expect(verdicts(withSample(40, orphans))['Redis memory bounded']).toBe(false);
  });

  it('fail when a queue at its caps keeps growing (here: a backlog the fleet does not work off)', () => {
    const e = evidence();
    e.samples = e.samples.map((s, i) => {
      if (s.phase !== 'steady') return s;
      const grown = sample(s.atMs, 'steady', {
        jobs: {
          'agentry.plan': jobs(cap),
          'agentry.step': jobs(cap, 100 * i),
          'agentry.dlq': jobs(0),
        },
      });
      (grown.redis.byQueue['agentry.step'] ?? { bytes: 0 }).bytes = 20e6 + 200_000 * i;
      return grown;
    });
    const redis = judgeSoak(e)[2];
    expect(redis?.pass).toBe(false);
    expect(redis?.detail).toMatch(/jobs not finished/);
  });

  it('fail when the rows are not what the workload implies', () => {
    const e = evidence();
    const settled = e.samples.at(-1) as Sample;
    settled.rows = { ...settled.rows, steps: 3_999 };
    expect(verdicts(e)['Postgres rows as expected']).toBe(false);
    const audit = evidence();
    const last = audit.samples.at(-1) as Sample;
    last.rows = { ...last.rows, auditTargets: { secret: 3, run: 1_000 } };
    expect(verdicts(audit)['Postgres rows as expected']).toBe(false);
  });
});

describe('medianGrowth', () => {
  it('compares the medians of the first and last thirds, so one spike moves neither', () => {
    const flat = Array.from({ length: 99 }, () => 100);
    flat[98] = 300;
    flat[0] = 10;
    expect(medianGrowth(flat)).toMatchObject({ start: 100, end: 100, growth: 0, k: 33 });
    expect(medianGrowth([100, 100, 100, 110, 110, 110]).growth).toBeCloseTo(0.1);
    expect(medianGrowth([1, 2, 3]).growth).toBeNaN();
  });
});
