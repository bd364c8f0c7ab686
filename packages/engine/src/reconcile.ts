import { jobIds } from '@agentry/schema';
import { dispatchSteps } from './dispatch-steps';
import type { EngineDeps } from './engine-deps';

export interface ReconcileReport {
  planJobsEnqueued: number;
  stepsDispatched: number;
}

/**
 * Repair what a crash between a database commit and an enqueue left behind: runs still `pending`
 * get their plan job again, running runs get their `queued` steps dispatched again. Safe to run
 * at any time from any number of processes — every job id is deterministic.
 */
export async function reconcile(
  deps: EngineDeps,
  options: { olderThanMs: number; limit?: number },
): Promise<ReconcileReport> {
  const now = (deps.clock ?? (() => new Date()))();
  const olderThan = new Date(now.getTime() - options.olderThanMs);
  const limit = options.limit ?? 200;
  const report: ReconcileReport = { planJobsEnqueued: 0, stepsDispatched: 0 };
  for (const run of await deps.repos.runs.stale({ states: ['pending'], olderThan, limit })) {
    const { created } = await deps.producer.enqueue(
      'plan',
      { intent: run.intent, runId: run.id, correlationId: run.correlationId },
      { jobId: jobIds.plan(run.id) },
    );
    if (created) report.planJobsEnqueued += 1;
  }
  for (const run of await deps.repos.runs.stale({ states: ['running'], olderThan, limit })) {
    const queued = await deps.repos.steps.queued(run.id);
    report.stepsDispatched += await dispatchSteps(
      deps,
      run.id,
      run.correlationId,
      queued.map((s) => s.stepId),
    );
  }
  if (report.planJobsEnqueued + report.stepsDispatched > 0)
    deps.log.warn({ ...report }, 'reconciler repaired runs');
  return report;
}
