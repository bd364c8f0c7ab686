import { percentile } from '../bench/stats';
import { latencyWindows } from './latency-window';
import { noArrivals, runArrivals, type Arrivals } from './open-loop-arrivals';
import { traceRss, type RssTrace } from './rss-trace';
import type { SoakOptions } from './soak-options';
import { takeSample, type Sample, type SampleSources } from './take-sample';

/** What the load phase of a soak produced. */
export interface LoadPhase {
  arrivals: Arrivals;
  samples: Sample[];
  rss: RssTrace;
  /** When the arrivals stopped, ms after the first. */
  arrivalsEndedAtMs: number;
  /** Latency of the runs that ended in the steady phase (scheduled arrival → finished_at). */
  steadyLatency: { runs: number; p50Ms: number; p95Ms: number; p99Ms: number; maxMs: number };
  /** Take one more sample (after the settle), on the same clock. */
  sampleAgain(phase: Sample['phase']): Promise<Sample>;
}

const sleepUntil = (at: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, Math.max(0, at - Date.now()));
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Submit intents at the steady rate for `durationMs` while reading RSS every second and taking
 * a full sample every `sampleEveryMs` (the first `warmupMs` labelled warm-up). Stops early when
 * `interrupt` aborts. Resolves once every submission has been answered.
 */
export async function driveLoad(
  sources: Omit<SampleSources, 'arrivals' | 'latency' | 'steadyLatenciesMs'>,
  options: SoakOptions,
  interrupt: AbortSignal,
  log: (line: string) => void,
): Promise<LoadPhase> {
  const arrivals = noArrivals();
  const steadyLatenciesMs: number[] = [];
  const all: SampleSources = {
    ...sources,
    arrivals,
    latency: latencyWindows(sources.fleet.chaos.fleet.database.db, arrivals.scheduledAt),
    steadyLatenciesMs,
  };
  const samples: Sample[] = [];
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  interrupt.addEventListener('abort', onInterrupt, { once: true });
  const t0 = Date.now();
  const rss = traceRss(sources.fleet.processes, t0);
  const sending = runArrivals(sources.fleet.chaos, options.rate, stop.signal, arrivals);
  let arrivalsEndedAtMs = 0;
  try {
    for (let i = 1; ; i++) {
      const at = Math.min(t0 + i * options.sampleEveryMs, t0 + options.durationMs);
      await sleepUntil(at, interrupt);
      if (interrupt.aborted) break;
      const atMs = Date.now() - t0;
      const sample = await takeSample(all, atMs, atMs < options.warmupMs ? 'warm-up' : 'steady');
      samples.push(sample);
      log(progressLine(sample));
      const last = at >= t0 + options.durationMs;
      const firstSteady = sample.phase === 'steady' && samples.at(-2)?.phase !== 'steady';
      if (options.heapSnapshots && (firstSteady || last)) {
        for (const { process } of sources.fleet.processes) process.signal('SIGUSR2');
        log(`soak: heap snapshots requested (SIGUSR2) at ${(atMs / 1_000).toFixed(0)} s`);
      }
      if (last) break;
    }
  } finally {
    stop.abort();
    arrivalsEndedAtMs = Date.now() - t0;
    rss.stop();
    interrupt.removeEventListener('abort', onInterrupt);
    await sending;
  }
  const sorted = [...steadyLatenciesMs].sort((a, b) => a - b);
  return {
    arrivals,
    samples,
    rss: rss.trace,
    arrivalsEndedAtMs,
    steadyLatency: {
      runs: sorted.length,
      p50Ms: percentile(sorted, 50),
      p95Ms: percentile(sorted, 95),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.at(-1) ?? Number.NaN,
    },
    sampleAgain: (phase) => takeSample(all, Date.now() - t0, phase),
  };
}

function progressLine(s: Sample): string {
  const rss = Object.entries(s.rssMb)
    .map(([label, mb]) => `${label} ${mb.toFixed(0)}`)
    .join(', ');
  return `  ${(s.atMs / 1_000).toFixed(0).padStart(5)} s ${s.phase.padEnd(7)} sent ${s.runs.submitted} ended ${s.runs.finished} p95 ${s.latency.p95Ms.toFixed(0)} ms | RSS MB ${rss} | redis ${(s.redis.bytes / 2 ** 20).toFixed(1)} MB in ${s.redis.keys} keys | load ${s.load1.toFixed(2)}`;
}
