import { isTerminalRunState, type RunState } from '@agentry/schema';
import type { ApiClient } from '../api-client';
import { renderRun, type RunView } from '../render';
import { progressSignature, renderProgress, type ProgressInput } from '../render-progress';

export interface WatchRunOptions {
  /** How often the run is read. @default 300 */
  intervalMs?: number;
  /** Give up (throw) after this long. @default 600000 (10 min) */
  timeoutMs?: number;
  /** Where lines go. @default console.log */
  print?: (line: string) => void;
  /** At most one progress line this often while the run goes on. @default 2000 */
  progressIntervalMs?: number;
  /** The clock. @default Date.now */
  now?: () => number;
}

/** While nothing changes, the progress line is repeated this often (a long step stays visible). */
const heartbeatMs = 15_000;

/**
 * Follow a run until it ends (or waits for approval), printing each state change of the run and
 * its steps, and a progress line (steps done, the running step, elapsed, cost against the
 * estimate and budget) when something changed, at most every `progressIntervalMs`, and once at
 * the end. Resolves with the final view.
 */
export async function watchRun(
  api: ApiClient,
  runId: string,
  options: WatchRunOptions = {},
): Promise<RunView> {
  const print = options.print ?? ((line: string) => console.log(line));
  const now = options.now ?? Date.now;
  const progressIntervalMs = options.progressIntervalMs ?? 2_000;
  const deadline = now() + (options.timeoutMs ?? 10 * 60_000);
  const seen = new Map<string, string>();
  const stamp = () => new Date(now()).toISOString().slice(11, 23);
  let printed: { signature: string; at: number } | undefined;
  for (;;) {
    const view = await api.get<RunView & ProgressInput>(`/v1/runs/${runId}`);
    const changes: string[] = [];
    if (seen.get('run') !== view.run.state) changes.push(`run ${view.run.state}`);
    seen.set('run', view.run.state);
    for (const s of view.steps) {
      if (seen.get(s.stepId) !== s.state) changes.push(`step ${s.stepId} (${s.tool}) ${s.state}`);
      seen.set(s.stepId, s.state);
    }
    for (const c of changes) print(`${stamp()}  ${c}`);
    const state = view.run.state as RunState;
    const final = isTerminalRunState(state) || state === 'awaiting_approval';
    const signature = progressSignature(view);
    const at = now();
    const sincePrinted = printed === undefined ? Infinity : at - printed.at;
    // A change waits for the interval to pass (the signature stays unprinted until then).
    const due =
      final ||
      (sincePrinted >= progressIntervalMs &&
        (signature !== printed?.signature || sincePrinted >= heartbeatMs));
    if (due) {
      print(`${stamp()}  ${renderProgress(view, at)}`);
      printed = { signature, at };
    }
    if (final) {
      print(renderRun(view));
      return view;
    }
    if (at > deadline) throw new Error(`run ${runId} still ${state} after the watch timeout`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 300));
  }
}
