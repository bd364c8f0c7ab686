import { describeMachineLine } from '../bench/machine';
import type { SoakResult } from './run-soak';
import type { Sample } from './take-sample';

const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** At most ~20 rows: every n-th sample, and always the last steady one and the settled one. */
function rowsToPrint(samples: readonly Sample[]): Sample[] {
  const every = Math.max(1, Math.ceil(samples.length / 20));
  return samples.filter(
    (s, i) =>
      i % every === every - 1 ||
      s.phase === 'settled' ||
      samples[i + 1]?.phase === 'settled' ||
      samples[i + 1]?.phase !== s.phase,
  );
}

/** CPU cores the fleet's processes used together between two samples. */
function coresBetween(a: Sample, b: Sample, labels: readonly string[]): number {
  const used = labels.reduce(
    (n, l) => n + ((b.cpuSeconds[l] ?? Number.NaN) - (a.cpuSeconds[l] ?? Number.NaN)),
    0,
  );
  return used / ((b.atMs - a.atMs) / 1_000);
}

/** Average cores each process (and this driver) used over the steady phase. */
export function steadyCpu(result: SoakResult): string {
  const steady = result.samples.filter((s) => s.phase === 'steady');
  const first = steady[0];
  const last = steady.at(-1);
  if (!first || !last || first === last) return 'n/a';
  const seconds = (last.atMs - first.atMs) / 1_000;
  const per = result.processes.map(
    ({ label }) =>
      `${label} ${(((last.cpuSeconds[label] ?? Number.NaN) - (first.cpuSeconds[label] ?? Number.NaN)) / seconds).toFixed(2)}`,
  );
  const fleet = coresBetween(
    first,
    last,
    result.processes.map((p) => p.label),
  );
  const driver = (last.driverCpuSeconds - first.driverCpuSeconds) / seconds;
  return `${per.join(', ')} = ${fleet.toFixed(2)} cores for the fleet; this driver (submitter, sink, sampler) ${driver.toFixed(2)}`;
}

/** Runs accepted and not ended at the end of warm-up and at the end of the arrivals. */
function backlogLine(result: SoakResult): string {
  const open = (s: Sample | undefined) => (s ? s.runs.accepted - s.runs.finished : Number.NaN);
  const steady = result.samples.filter((s) => s.phase === 'steady');
  const start = open(steady[0]);
  const end = open(steady.at(-1));
  const max = Math.max(...steady.map(open));
  const verdict =
    end <= Math.max(start, result.options.rate * 5)
      ? 'the rate was sustained'
      : 'it grew: the fleet did not keep up with this rate on this machine';
  return `${f0(start)} after warm-up, ${f0(end)} when the arrivals stopped (max ${f0(max)}): ${verdict}`;
}

/** The soak's samples as a markdown table (what docs/soak.md quotes), then PASS/FAIL per criterion. */
export function formatReport(result: SoakResult): string {
  const labels = result.processes.map((p) => p.label);
  const header = [
    't (s)',
    'phase',
    'sent',
    'ended',
    'p50 ms',
    'p95 ms',
    ...labels.map((l) => `${l} MB`),
    'redis MB (prefix)',
    'keys',
    'redis MB (server)',
    'plan done/wait',
    'step done/wait',
    'runs',
    'steps',
    'attempts',
    'audit',
    'fleet CPU (cores)',
    'load',
  ];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const rows = rowsToPrint(result.samples).map((s) => {
    const before = result.samples[result.samples.indexOf(s) - 1];
    const q = (name: string) => {
      const c = s.jobs[name];
      return c ? `${c.completed}/${c.waiting + c.active + c.delayed + c.prioritized}` : '–';
    };
    return line([
      f0(s.atMs / 1_000),
      s.phase,
      String(s.runs.submitted),
      String(s.runs.finished),
      f0(s.latency.p50Ms),
      f0(s.latency.p95Ms),
      ...labels.map((l) => f0(s.rssMb[l] ?? Number.NaN)),
      mb(s.redis.bytes),
      String(s.redis.keys),
      mb(s.redis.serverUsedBytes),
      q('agentry.plan'),
      q('agentry.step'),
      String(s.rows.runs),
      String(s.rows.steps),
      String(s.rows.stepAttempts),
      String(s.rows.auditLog),
      before ? coresBetween(before, s, labels).toFixed(2) : '–',
      s.load1.toFixed(2),
    ]);
  });
  const { options: o } = result;
  return [
    `agentry soak: ${o.rate} runs/s for ${o.durationMs / 1_000} s (warm-up ${o.warmupMs / 1_000} s, a sample every ${o.sampleEveryMs / 1_000} s), started ${result.startedAt}`,
    describeMachineLine(result.machine) +
      `; at the end of the arrivals ${result.loadAtEnd.toFixed(2)}`,
    ...(o.heapSnapshots
      ? [
          `heap snapshots (end of warm-up, end of arrivals): ${result.logs.dir}/Heap.*.heapsnapshot — compare with tsx scripts/soak/heap-diff.ts (they cost RSS: judge RSS on a run without them)`,
        ]
      : []),
    `logs: ${result.logs.dir} (${result.logs.lines} lines: ${Object.entries(result.logs.byLevel)
      .map(([level, n]) => `${n} ${level}`)
      .join(', ')})`,
    '',
    `arrivals: ${result.arrivals.submitted} sent (${result.arrivals.achievedRate.toFixed(1)}/s achieved, ${result.arrivals.late} sent late), ${result.arrivals.accepted} accepted; steady-phase latency (scheduled arrival → run finished) over ${result.steadyLatency.runs} runs: p50 ${f0(result.steadyLatency.p50Ms)} ms, p95 ${f0(result.steadyLatency.p95Ms)} ms, p99 ${f0(result.steadyLatency.p99Ms)} ms, max ${f0(result.steadyLatency.maxMs)} ms`,
    `backlog (runs accepted, not ended): ${backlogLine(result)}`,
    `CPU over the steady phase: ${steadyCpu(result)}`,
    '',
    line(header),
    line(header.map(() => '---')),
    ...rows,
    '',
    ...result.criteria.map(
      (c) => `${c.pass ? (c.judged ? 'PASS' : 'n/a ') : 'FAIL'}  ${c.name}: ${c.detail}`,
    ),
    ...(result.cleanup.length > 0 ? [`FAIL  cleanup: ${result.cleanup.join('; ')}`] : []),
    '',
    result.passed && result.cleanup.length === 0 ? 'soak: PASS' : 'soak: FAIL',
  ].join('\n');
}
