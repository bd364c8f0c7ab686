/** What a progress line needs of a run's detail (`GET /v1/runs/:id`); a `RunView` fits. */
export interface ProgressInput {
  run: {
    state: string;
    spentUsd?: number;
    budgetUsd?: number | null;
    createdAt?: string | null;
    startedAt?: string | null;
    finishedAt?: string | null;
  };
  plan?: { review?: { estimatedCost: { totalUsd: number } } | null } | null;
  steps: ReadonlyArray<{ stepId: string; state: string; startedAt?: string | null }>;
}

const done = new Set(['succeeded', 'compensated']);

/** `41.0 s` under a minute, then `3 min 12 s`, then `1 h 02 min`. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, ms) / 1_000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3_600)
    return `${Math.floor(s / 60)} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(s / 3_600)} h ${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')} min`;
}

const since = (iso: string | null | undefined, now: number): number | undefined =>
  iso ? now - Date.parse(iso) : undefined;

/**
 * One line of a run's progress, e.g. `progress: 2/5 steps done, running: deploy (12.3 s), elapsed
 * 41.0 s, cost $0.0123 of est. $0.0400 (budget $1.00)`. Elapsed time counts from the run's start
 * (its creation before then) to its end or `now`. Pure.
 */
export function renderProgress(view: ProgressInput, now: number): string {
  const parts: string[] = [];
  const { steps, run } = view;
  if (steps.length === 0) {
    parts.push(run.state === 'pending' ? 'planning' : 'no steps');
  } else {
    const count = (state: string) => steps.filter((s) => s.state === state).length;
    parts.push(`${steps.filter((s) => done.has(s.state)).length}/${steps.length} steps done`);
    for (const state of ['failed', 'cancelled']) {
      if (count(state) > 0) parts.push(`${count(state)} ${state}`);
    }
    const running = steps.filter((s) => s.state === 'running');
    if (running.length > 0) {
      const each = running.map((s) => {
        const ms = since(s.startedAt, now);
        return ms === undefined ? s.stepId : `${s.stepId} (${formatElapsed(ms)})`;
      });
      parts.push(`running: ${each.join(' + ')}`);
    } else if (count('queued') > 0) {
      parts.push(`queued: ${count('queued')}`);
    }
  }
  const from = run.startedAt ?? run.createdAt;
  if (from) {
    const end = run.finishedAt ? Date.parse(run.finishedAt) : now;
    parts.push(`elapsed ${formatElapsed(end - Date.parse(from))}`);
  }
  const estimate = view.plan?.review?.estimatedCost.totalUsd;
  const budget = run.budgetUsd;
  parts.push(
    `cost $${(run.spentUsd ?? 0).toFixed(4)}` +
      (estimate === undefined ? '' : ` of est. $${estimate.toFixed(4)}`) +
      (budget == null ? '' : ` (budget $${budget.toFixed(2)})`),
  );
  return `progress: ${parts.join(', ')}`;
}

/**
 * What a progress line reports apart from the passing of time: when it changes, the line is
 * worth printing again. Pure.
 */
export function progressSignature(view: ProgressInput): string {
  return JSON.stringify([
    view.run.state,
    view.run.spentUsd ?? 0,
    view.plan?.review?.estimatedCost.totalUsd ?? null,
    view.steps.map((s) => s.state),
  ]);
}
