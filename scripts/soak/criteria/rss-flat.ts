import type { Criterion, SoakEvidence } from '../judge-soak';
import { maxGrowth, medianGrowth } from '../median-growth';

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/**
 * The shortest post-warm-up period RSS growth is judged on. A Node process's RSS is a sawtooth —
 * the heap grows for a minute or two, then a major GC gives pages back, up to 20 % at once — so
 * on a shorter period the figure says where in that sawtooth the run began and ended, not
 * whether memory leaks. (Windows of a minute are still noisy; the intended soak is 10 minutes
 * with 2 of warm-up: thirds of 160 s.)
 */
export const minRssWindowMs = 180_000;

/**
 * Per process, the median VmRSS of the last third of the post-warm-up period against the median
 * of its first third (read every second), under 5 % (see `medianGrowth`); and every process ran
 * to the end.
 */
export function rssFlat(e: SoakEvidence): Criterion {
  const { warmupMs, durationMs } = e.options;
  const steady = e.rss.filter((r) => r.atMs >= warmupMs && r.atMs <= durationMs);
  const labels = Object.keys(e.rss[0]?.mb ?? {});
  const lines: string[] = [];
  let pass = labels.length > 0;
  let k = 0;
  for (const label of labels) {
    const g = medianGrowth(steady.map((r) => r.mb[label] ?? Number.NaN));
    k = g.k;
    const ok = !e.exited.includes(label) && Number.isFinite(g.growth) && g.growth < maxGrowth;
    pass &&= ok;
    lines.push(
      `${label} ${g.start.toFixed(0)} → ${g.end.toFixed(0)} MB (${Number.isFinite(g.growth) ? pct(g.growth) : 'too few samples'}${e.exited.includes(label) ? ', EXITED' : ''}${heapSummary(e, label)})`,
    );
  }
  const windowMs = durationMs - warmupMs;
  const judged = windowMs >= minRssWindowMs;
  const alive = e.exited.length === 0;
  return {
    name: `RSS flat after warm-up (growth < ${pct(maxGrowth)})`,
    pass: judged ? pass : alive && labels.length > 0,
    judged,
    detail: `${lines.join('; ')} — median of the first ${k} vs the last ${k} of ${steady.length} readings, one a second after warm-up (heap: V8's committed and used heap from each process's /metrics, medians of the same thirds of the samples)${judged ? '' : `; growth not judged: ${windowMs / 1_000} s after warm-up < ${minRssWindowMs / 1_000} s (GC sawtooth), only that every process ran to the end`}`,
  };
}

/**
 * What the RSS is made of at both ends: V8's committed heap (`heap_size_total`) and its used heap
 * (live objects and garbage not yet collected), medians over the same thirds. RSS growing with
 * the committed heap while the used heap stays put is V8 sizing its heap, not live objects piling
 * up; `--heap-snapshots` tells for sure.
 */
function heapSummary(e: SoakEvidence, label: string): string {
  const steady = e.samples.filter((s) => s.phase === 'steady');
  const total = medianGrowth(steady.map((s) => s.heap[label]?.heapTotalMb ?? Number.NaN));
  const used = medianGrowth(steady.map((s) => s.heap[label]?.heapUsedMb ?? Number.NaN));
  const young = medianGrowth(steady.map((s) => s.heap[label]?.newSpaceMb ?? Number.NaN));
  const old = medianGrowth(steady.map((s) => s.heap[label]?.oldSpaceMb ?? Number.NaN));
  if (!Number.isFinite(total.growth) || !Number.isFinite(used.growth)) return '';
  const range = (g: typeof total) => `${g.start.toFixed(0)} → ${g.end.toFixed(0)}`;
  return `; heap committed ${range(total)} (young ${range(young)}, old ${range(old)}), used ${range(used)}`;
}
