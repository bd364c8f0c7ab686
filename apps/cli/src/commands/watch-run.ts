import { isTerminalRunState, type RunState } from '@agentry/schema';
import type { ApiClient } from '../api-client';
import { renderRun, type RunView } from '../render';

/**
 * Follow a run until it ends (or waits for approval), printing each state change of the run and
 * its steps. Resolves with the final view.
 */
export async function watchRun(
  api: ApiClient,
  runId: string,
  options: { intervalMs?: number; timeoutMs?: number; print?: (line: string) => void } = {},
): Promise<RunView> {
  const print = options.print ?? ((line: string) => console.log(line));
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  const seen = new Map<string, string>();
  for (;;) {
    const view = await api.get<RunView>(`/v1/runs/${runId}`);
    const changes: string[] = [];
    if (seen.get('run') !== view.run.state) changes.push(`run ${view.run.state}`);
    seen.set('run', view.run.state);
    for (const s of view.steps) {
      if (seen.get(s.stepId) !== s.state) changes.push(`step ${s.stepId} (${s.tool}) ${s.state}`);
      seen.set(s.stepId, s.state);
    }
    for (const c of changes) print(`${new Date().toISOString().slice(11, 23)}  ${c}`);
    const state = view.run.state as RunState;
    if (isTerminalRunState(state) || state === 'awaiting_approval') {
      print(renderRun(view));
      return view;
    }
    if (Date.now() > deadline)
      throw new Error(`run ${runId} still ${state} after the watch timeout`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 300));
  }
}
