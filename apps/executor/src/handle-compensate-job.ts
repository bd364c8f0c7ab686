import { tracingOf } from '@agentry/engine';
import type { JobContext } from '@agentry/queue';
import { AppError, toAppError, type JobPayload } from '@agentry/schema';
import { toolSpanAttributes, type StepJobDeps } from './handle-step-job';

/**
 * Undo a failed or cancelled run's completed steps in reverse order. Each compensation is recorded
 * as it finishes, so a retried job resumes where it stopped; a compensation that fails fails the
 * job (retried, then dead-lettered for an operator).
 */
export async function handleCompensateJob(
  deps: StepJobDeps,
  payload: JobPayload<'compensate'>,
  ctx: JobContext,
): Promise<{ compensated: string[]; withoutCompensation: string[] }> {
  const compensated: string[] = [];
  const withoutCompensation: string[] = [];
  const run = await deps.repos.runs.get(payload.runId);
  if (!run) throw new AppError('NOT_FOUND', `run ${payload.runId} does not exist`);
  if (run.state === 'running') {
    // The run was resumed (its dead letter replayed) before this job started: nothing to undo.
    ctx.log.info({ reason: payload.reason }, 'run resumed: compensation skipped');
    return { compensated, withoutCompensation };
  }
  for (const step of await deps.repos.steps.forCompensation(payload.runId)) {
    const tool = deps.tools.get(step.tool);
    const undo = tool?.compensate?.bind(tool);
    if (!undo) {
      withoutCompensation.push(step.stepId);
      continue;
    }
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(step.timeoutMs)]);
    try {
      await tracingOf(deps).inSpan(
        `execute_tool ${step.tool}`,
        {
          attributes: toolSpanAttributes(step.tool, payload.runId, step.stepId, ctx.attempt, true),
        },
        () =>
          undo(step.input as never, step.output as never, {
            signal,
            log: ctx.log.child({ stepId: step.stepId, tool: step.tool }),
            runId: payload.runId,
            stepId: step.stepId,
            attempt: ctx.attempt,
            idempotencyKey: `${payload.runId}.${step.stepId}.compensate`,
          }),
      );
      await deps.repos.steps.markCompensated(payload.runId, step.stepId, { ok: true });
      compensated.push(step.stepId);
    } catch (e) {
      const error = toAppError(e);
      await deps.repos.steps.markCompensated(payload.runId, step.stepId, {
        ok: false,
        error: error.toJSON(),
      });
      throw error;
    }
  }
  ctx.log.info({ compensated, withoutCompensation, reason: payload.reason }, 'run compensated');
  return { compensated, withoutCompensation };
}
