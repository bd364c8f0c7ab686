import type { Tracing } from '@agentry/observability';
import type { Handler } from '@agentry/queue';
import { runIdForPlanJob, type JobKind } from '@agentry/schema';

type RunJobKind = Extract<JobKind, 'plan' | 'step' | 'compensate'>;

/** What the traced job kinds' payloads may name. */
interface TracedPayload {
  runId?: string;
  stepId?: string;
  correlationId?: string;
  tenantId?: string;
  intent?: { tenantId?: string };
  traceparent?: string;
}

/**
 * `handler` in a span of its run's trace (`agentry.plan`, `agentry.step`, `agentry.compensate`),
 * a child of the span that enqueued the job (the payload's `traceparent`). Spans inside the
 * handler — model calls, tool calls — are its children, and jobs it enqueues carry its context.
 * With tracing off the handler is returned as it is.
 */
export function traceJob<K extends RunJobKind>(
  tracing: Tracing,
  kind: K,
  handler: Handler<K>,
): Handler<K> {
  if (!tracing.enabled) return handler;
  return (payload, ctx) => {
    const p = payload as TracedPayload;
    const runId = kind === 'plan' ? runIdForPlanJob(ctx.jobId, p.runId) : (p.runId ?? '');
    return tracing.inSpan(
      `agentry.${kind}`,
      {
        runId,
        ...(p.traceparent ? { parent: p.traceparent } : {}),
        kind: 'consumer',
        attributes: {
          'messaging.system': 'bullmq',
          'messaging.operation.type': 'process',
          'messaging.destination.name': ctx.queue,
          'messaging.message.id': ctx.jobId,
          'agentry.run_id': runId,
          'agentry.step_id': p.stepId,
          'agentry.correlation_id': p.correlationId ?? runId,
          'agentry.tenant_id': p.tenantId ?? p.intent?.tenantId,
          'agentry.attempt': ctx.attempt,
          'agentry.worker': ctx.worker,
        },
      },
      async (span) => {
        const result = await handler(payload, ctx);
        span.setAttributes(resultAttributes(result));
        return result;
      },
    );
  };
}

/** What a handler's result tells about the job: its outcome and, for planning, the plan's source. */
function resultAttributes(result: unknown): Record<string, string | number | undefined> {
  const r = (result ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    'agentry.outcome': text(r.outcome),
    'agentry.plan.source': text(r.source),
    'agentry.plan.produced_by': text(r.producedBy),
    'agentry.plan.steps': typeof r.steps === 'number' ? r.steps : undefined,
  };
}
