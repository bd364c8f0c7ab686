import { rssMbOf } from './process-usage';
import type { SoakProcess } from './soak-fleet';

/** VmRSS of each process, once a second: `atMs` since the first arrival, `mb` by label. */
export type RssTrace = Array<{ atMs: number; mb: Record<string, number> }>;

/**
 * Read every process's VmRSS once a second (a /proc read: no load on the fleet). The RSS of a
 * Node process is a sawtooth — the heap grows until a major GC gives pages back, tens of MB at a
 * time, tens of seconds apart — so the RSS criterion needs many samples per window, far more than
 * the full samples give.
 */
export function traceRss(
  processes: readonly SoakProcess[],
  t0: number,
): { trace: RssTrace; stop(): void } {
  const trace: RssTrace = [];
  const read = () =>
    trace.push({
      atMs: Date.now() - t0,
      mb: Object.fromEntries(
        processes.map(({ label, process }) => [
          label,
          process.running ? rssMbOf(process.pid) : Number.NaN,
        ]),
      ),
    });
  read();
  const timer = setInterval(read, 1_000);
  return { trace, stop: () => clearInterval(timer) };
}
