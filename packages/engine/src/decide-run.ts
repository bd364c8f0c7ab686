import { AppError } from '@agentry/schema';
import { dispatchSteps } from './dispatch-steps';
import { enqueueCompensation } from './compensate-run';
import type { EngineDeps } from './engine-deps';

export interface Decision {
  runId: string;
  actor: string;
  reason?: string;
}

/** Every decision is an audit event and a log line with the run's correlation id. */
export async function recordDecision(
  deps: EngineDeps,
  run: { id: string; correlationId: string },
  decision: Decision,
  verb: 'approve' | 'reject' | 'cancel',
  details: Record<string, unknown> = {},
) {
  await deps.repos.audit.record({
    actor: decision.actor,
    action: `run.${verb}`,
    targetType: 'run',
    targetId: run.id,
    details: { reason: decision.reason ?? null, ...details },
  });
  deps.log.info(
    {
      runId: run.id,
      correlationId: run.correlationId,
      actor: decision.actor,
      reason: decision.reason,
    },
    `run ${verb === 'approve' ? 'approved' : verb === 'reject' ? 'rejected' : 'cancelled'}`,
  );
}

export async function requireRun(deps: EngineDeps, runId: string) {
  const run = await deps.repos.runs.get(runId);
  if (!run) throw new AppError('NOT_FOUND', `run ${runId} does not exist`);
  return run;
}

/** An approval: the decision, the plan it is about, and a new budget after a budget stop. */
export interface Approval extends Decision {
  /** The hash of the plan the approver reviewed (`plan.hash` of the run). */
  planHash: string;
  budgetUsd?: number;
}

/**
 * Release a run waiting in `awaiting_approval`: its ready steps are enqueued. Refused with
 * `CONFLICT` when the run is not waiting, when the plan changed since the approver reviewed it
 * (another hash), when the request expired (the run is then rejected), or when a budget stop is
 * approved without a budget that covers it.
 */
export async function approveRun(deps: EngineDeps, approval: Approval) {
  const run = await requireRun(deps, approval.runId);
  const result = await deps.repos.runs.approve(run.id, {
    planHash: approval.planHash,
    actor: approval.actor,
    ...(approval.reason === undefined ? {} : { reason: approval.reason }),
    ...(approval.budgetUsd === undefined ? {} : { budgetUsd: approval.budgetUsd }),
  });
  switch (result.outcome) {
    case 'unknown':
      throw new AppError('NOT_FOUND', `run ${run.id} does not exist`);
    case 'not-awaiting':
      throw new AppError(
        'CONFLICT',
        `run ${run.id} is ${result.run.state}, not awaiting approval`,
        { details: { state: result.run.state } },
      );
    case 'plan-changed':
      throw new AppError(
        'CONFLICT',
        `run ${run.id}: the plan changed since it was reviewed (approved ${short(approval.planHash)}, current ${short(result.currentHash)}); review it again`,
        { details: { approvedHash: approval.planHash, currentHash: result.currentHash } },
      );
    case 'expired':
      await recordDecision(
        deps,
        run,
        { ...approval, actor: 'agentry', reason: 'expired' },
        'reject',
      );
      await enqueueCompensation(deps, run, 'approval request expired');
      throw new AppError('CONFLICT', `run ${run.id}: ${result.run.error?.message ?? 'expired'}`, {
        details: { state: 'rejected', expired: true },
      });
    case 'needs-budget':
      throw new AppError(
        'CONFLICT',
        `run ${run.id} stopped at its budget: approve it with a budget of at least $${result.neededUsd.toFixed(4)}`,
        { details: { neededUsd: result.neededUsd, budgetUsd: result.run.budgetUsd } },
      );
    case 'approved':
      break;
  }
  await recordDecision(deps, run, approval, 'approve', {
    planHash: approval.planHash,
    ...(approval.budgetUsd === undefined ? {} : { budgetUsd: approval.budgetUsd }),
  });
  await dispatchSteps(deps, run, result.roots);
  return { runId: run.id, state: 'running' as const, planHash: approval.planHash };
}

const short = (hash: string | null) => (hash === null ? 'none' : hash.slice(0, 12));

/** Refuse a run waiting for approval. */
export async function rejectRun(deps: EngineDeps, decision: Decision) {
  const run = await requireRun(deps, decision.runId);
  if (run.state !== 'awaiting_approval') {
    throw new AppError('CONFLICT', `run ${run.id} is ${run.state}, not awaiting approval`, {
      details: { state: run.state },
    });
  }
  const rejected = await deps.repos.runs.reject(
    run.id,
    decision.reason ?? 'rejected',
    decision.actor,
  );
  if (!rejected) throw new AppError('CONFLICT', `run ${run.id} changed state meanwhile`);
  await recordDecision(deps, run, decision, 'reject');
  // A run parked by a budget stop has completed steps: undo them as for a failure.
  await enqueueCompensation(deps, run, `rejected: ${rejected.error?.message}`);
  return { runId: run.id, state: 'rejected' as const };
}

/**
 * Reject the runs whose approval request expired (a batch of at most 100 per call): each is an
 * audit event (`run.expire`, by `agentry`) and a log line. Answers how many expired.
 */
export async function expireApprovals(deps: EngineDeps): Promise<number> {
  const expired = await deps.repos.runs.expireApprovals(100);
  for (const run of expired) {
    await deps.repos.audit.record({
      actor: 'agentry',
      action: 'run.expire',
      targetType: 'run',
      targetId: run.id,
      details: { reason: run.error?.message ?? null },
    });
    deps.log.warn(
      { runId: run.id, correlationId: run.correlationId, reason: run.error?.message },
      'approval request expired: run rejected',
    );
    await enqueueCompensation(deps, run, `expired: ${run.error?.message}`);
  }
  return expired.length;
}
