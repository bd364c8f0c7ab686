/** What `pnpm soak` was asked to do; durations in ms. */
export interface SoakOptions {
  /** Arrivals last this long (the settle and the checks come after). @default 10 min */
  durationMs: number;
  /**
   * Open-loop arrival rate, runs per second. @default 20 — what the 2-core development VM
   * sustains with margin when it is not shared (docs/soak.md; under heavy shared load, use 8).
   */
  rate: number;
  /** The first part of the run that is not judged (start-up, JIT, pools, caches). @default 2 min */
  warmupMs: number;
  /** How often every figure is sampled. @default duration / 40, between 1 s and 15 s */
  sampleEveryMs: number;
  /** Where the result goes as JSON. */
  jsonFile: string | undefined;
  /** Where the processes' log files go. @default a fresh directory under the OS temp dir */
  logDir: string | undefined;
  /**
   * Write a heap snapshot of every process at the end of warm-up and at the end of the arrivals
   * (`--heapsnapshot-signal`, into the log directory), for `heap-diff.ts` to compare. @default false
   */
  heapSnapshots: boolean;
}

export const soakUsage = `usage: pnpm soak [--duration 10m] [--rate 20] [--warmup 2m] [--sample 15s] [--json <file>] [--log-dir <dir>] [--heap-snapshots]
  durations: <n>s or <n>m (a bare number is seconds)`;

/** `90s` → 90 000, `10m` → 600 000, `45` → 45 000. Throws on anything else. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m)?$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: "${text}" (use e.g. 30s or 10m)`);
  const value = Number(match[1]);
  return Math.round(value * (match[2] === 'm' ? 60_000 : 1_000));
}

/** Pure: parse `pnpm soak`'s arguments. Throws a readable Error on a bad or unknown one. */
export function parseSoakOptions(argv: readonly string[]): SoakOptions {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    // `pnpm soak -- --duration 1m` passes the `--` through.
    if (arg === '--') continue;
    if (arg === '--heap-snapshots') {
      given.set(arg, 'true');
      continue;
    }
    const [name, inline] = arg.split('=', 2) as [string, string | undefined];
    if (!['--duration', '--rate', '--warmup', '--sample', '--json', '--log-dir'].includes(name))
      throw new Error(`unknown argument "${arg}"\n${soakUsage}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${name} needs a value\n${soakUsage}`);
    given.set(name, value);
  }
  const durationMs = parseDuration(given.get('--duration') ?? '10m');
  const warmupMs = parseDuration(given.get('--warmup') ?? '2m');
  const rate = Number(given.get('--rate') ?? '20');
  if (!Number.isFinite(rate) || rate <= 0 || rate > 1_000)
    throw new Error(`--rate ${given.get('--rate') ?? ''}: runs per second, above 0`);
  if (durationMs < 5_000) throw new Error('--duration: at least 5s');
  if (warmupMs >= durationMs) throw new Error('--warmup must be shorter than --duration');
  const sample = given.get('--sample');
  const sampleEveryMs =
    sample === undefined
      ? Math.min(15_000, Math.max(1_000, Math.round(durationMs / 40)))
      : parseDuration(sample);
  if (sampleEveryMs < 500) throw new Error('--sample: at least 0.5s');
  return {
    durationMs,
    rate,
    warmupMs,
    sampleEveryMs,
    jsonFile: given.get('--json'),
    logDir: given.get('--log-dir'),
    heapSnapshots: given.has('--heap-snapshots'),
  };
}
