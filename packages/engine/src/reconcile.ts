import { jobIds, toAppError } from '@agentry/schema';
import { dispatchSteps } from './dispatch-steps';
import { traceFieldFor, type EngineDeps } from './engine-deps';
import { enqueueOwed } from './enqueue-owed';

export interface ReconcileReport {
  planJobsEnqueued: number;
  stepsDispatched: number;
  /** Runs whose repair failed this pass for a reason of their own (logged; tried again next pass). */
  failed: number;
}

/**
 * Repair what a crash between a database commit and an enqueue left behind — or what Redis lost
 * (a restart without persistence, a flushed or failed-over server): runs still `pending` get
 * their plan job again (replacing a finished one, whose outcome the database never got), running
 * runs get their `queued` steps dispatched again. Safe to run at any time from any number of
 * processes — every job id is deterministic.
 *
 * One run that cannot be repaired (say, an intent stored by an older version that today's schema
 * refuses) does not hold up the others: it is counted in `failed` and logged. Redis unreachable
 * or refusing writes (`UNAVAILABLE`) ends the pass with that error, since every other enqueue
 * would fail the same way.
 */
export async function reconcile(
  deps: EngineDeps,
  options: { olderThanMs: number; limit?: number },
): Promise<ReconcileReport> {
  const now = (deps.clock ?? (() => new Date()))();
  const olderThan = new Date(now.getTime() - options.olderThanMs);
  const limit = options.limit ?? 200;
  const report: ReconcileReport = { planJobsEnqueued: 0, stepsDispatched: 0, failed: 0 };
  // Which runs were repaired, so an operator can follow them by id.
  const repaired: Array<{ runId: string; correlationId: string }> = [];
  const failures: Array<{ runId: string; code: string; reason: string }> = [];
  const isolated = async (runId: string, repair: () => Promise<void>): Promise<void> => {
    try {
      await repair();
    } catch (e) {
      const error = toAppError(e);
      if (error.code === 'UNAVAILABLE') throw error;
      report.failed += 1;
      failures.push({ runId, code: error.code, reason: error.message.slice(0, 200) });
    }
  };
  try {
    for (const run of await deps.repos.runs.stale({ states: ['pending'], olderThan, limit })) {
      await isolated(run.id, async () => {
        // A finished plan job of a still-pending run is replaced: its outcome never reached the
        // database. Planning again is safe — the planner plans only a pending run.
        const { created } = await enqueueOwed(
          deps.producer,
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
      });
    }
    for (const run of await deps.repos.runs.stale({ states: ['running'], olderThan, limit })) {
      await isolated(run.id, async () => {
        const queued = await deps.repos.steps.queued(run.id);
        const dispatched = await dispatchSteps(deps, run, queued);
        report.stepsDispatched += dispatched;
        if (dispatched > 0) repaired.push({ runId: run.id, correlationId: run.correlationId });
      });
    }
  } finally {
    // Also what was repaired before Redis went away mid-pass.
    if (repaired.length > 0)
      deps.log.warn({ ...report, runs: repaired }, 'reconciler repaired runs');
    if (failures.length > 0)
      deps.log.warn(
        { failed: failures.length, runs: failures.slice(0, 20) },
        'reconciler could not repair runs; will try again',
      );
  }
  return report;
}
