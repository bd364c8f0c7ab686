import { jobIds } from '@agentry/schema';
import { dispatchSteps } from './dispatch-steps';
import { traceFieldFor, type EngineDeps } from './engine-deps';

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
  // Which runs were repaired, so an operator can follow them by id.
  const repaired: Array<{ runId: string; correlationId: string }> = [];
  for (const run of await deps.repos.runs.stale({ states: ['pending'], olderThan, limit })) {
    const { created } = await deps.producer.enqueue(
      'plan',
      {
        intent: run.intent,
        runId: run.id,
        correlationId: run.correlationId,
        ...traceFieldFor(deps, run.id),
      },
      { jobId: jobIds.plan(run.id) },
    );
    if (created) {
      report.planJobsEnqueued += 1;
      repaired.push({ runId: run.id, correlationId: run.correlationId });
    }
  }
  for (const run of await deps.repos.runs.stale({ states: ['running'], olderThan, limit })) {
    const queued = await deps.repos.steps.queued(run.id);
    const dispatched = await dispatchSteps(deps, run, queued);
    report.stepsDispatched += dispatched;
    if (dispatched > 0) repaired.push({ runId: run.id, correlationId: run.correlationId });
  }
  if (repaired.length > 0) deps.log.warn({ ...report, runs: repaired }, 'reconciler repaired runs');
  return report;
}
