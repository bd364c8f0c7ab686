import type { Criterion, SoakEvidence } from '../judge-soak';
import { maxGrowth, medianGrowth } from '../median-growth';
import type { Sample } from '../take-sample';

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/** XADD MAXLEN ~ trims whole stream nodes (100 entries by default): a stream may pass its cap by that. */
const streamTrimSlack = 100;

/**
 * Redis holds what the retention policy allows and nothing else, per queue: the completed set
 * never above its cap and the event stream within its own, every job key belonging to a job the
 * queue still retains, and — once the queue is at both caps — its bytes no longer growing.
 */
export function redisBounded(e: SoakEvidence): Criterion {
  const { caps, samples } = e;
  const problems: string[] = [];
  const steady = samples.filter((s) => s.phase === 'steady');
  const settled = samples.find((s) => s.phase === 'settled');
  if (!settled) problems.push('no sample after settling');
  const queues = Object.keys(samples[0]?.jobs ?? {});
  const lines: string[] = [];
  for (const q of queues) {
    const eventsCap = caps.events[q] ?? Infinity;
    const maxCompleted = Math.max(0, ...samples.map((s) => s.jobs[q]?.completed ?? 0));
    const maxStream = Math.max(0, ...samples.map((s) => s.redis.eventStreams[q] ?? 0));
    if (maxCompleted > caps.completed)
      problems.push(`${q}: ${maxCompleted} completed jobs kept > cap ${caps.completed}`);
    if (maxStream > eventsCap + streamTrimSlack)
      problems.push(`${q}: event stream at ${maxStream} > cap ${eventsCap}`);
    let orphans = 0;
    if (settled) {
      const c = settled.jobs[q];
      const retained = c
        ? c.completed + c.failed + c.waiting + c.active + c.delayed + c.prioritized
        : 0;
      orphans = (settled.redis.byQueue[q]?.jobKeys ?? 0) - retained;
      if (orphans !== 0)
        problems.push(`${q}: ${settled.redis.byQueue[q]?.jobKeys} job keys for ${retained} jobs`);
    }
    if (maxCompleted === 0 && maxStream === 0) {
      lines.push(`${q}: unused, orphan keys ${orphans}`);
      continue;
    }
    const atCaps = (s: Sample) =>
      (s.jobs[q]?.completed ?? 0) >= caps.completed && (s.redis.eventStreams[q] ?? 0) >= eventsCap;
    const first = steady.findIndex(atCaps);
    const plateau = first < 0 ? [] : steady.slice(first);
    const g = medianGrowth(plateau.map((s) => s.redis.byQueue[q]?.bytes ?? 0));
    const last = steady.at(-1) ?? settled;
    let trend: string;
    if (Number.isFinite(g.growth)) {
      if (g.growth >= maxGrowth) problems.push(`${q}: ${mb(g.start)} → ${mb(g.end)} at its caps`);
      const backlog = (s: Sample | undefined) => {
        const c = s?.jobs[q];
        return c ? c.waiting + c.active + c.delayed + c.prioritized : 0;
      };
      trend = `at its caps from ${((plateau[0]?.atMs ?? 0) / 1_000).toFixed(0)} s: ${mb(g.start)} → ${mb(g.end)} (${pct(g.growth)}, median of first/last ${g.k} of ${plateau.length} samples; jobs not finished ${backlog(plateau[0])} → ${backlog(plateau.at(-1))})`;
    } else {
      const kept = last?.jobs[q]?.completed ?? 0;
      const perJob = kept > 0 ? (last?.redis.byQueue[q]?.bytes ?? 0) / kept : Number.NaN;
      trend = `not at its caps long enough to judge (${plateau.length} samples at them): ${mb(last?.redis.byQueue[q]?.bytes ?? 0)}, ≈ ${(perJob / 1024).toFixed(1)} KiB per kept job, ≈ ${mb(perJob * caps.completed)} at the cap`;
    }
    lines.push(
      `${q}: completed kept max ${maxCompleted} (cap ${caps.completed}), events max ${maxStream} (cap ${eventsCap}), orphan keys ${orphans}; ${trend}`,
    );
  }
  const other = (settled ?? samples.at(-1))?.redis.byQueue.other;
  const end = settled ?? samples.at(-1);
  return {
    name: 'Redis memory bounded (finished jobs trimmed by policy)',
    pass: problems.length === 0,
    judged: true,
    detail: `${lines.join('; ')}; keys under no queue ${other?.keys ?? '?'}; end ${end ? `${mb(end.redis.bytes)} in ${end.redis.keys} keys` : '?'}${problems.length > 0 ? ` — ${problems.slice(0, 4).join('; ')}` : ''}`,
  };
}
