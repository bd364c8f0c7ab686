import { z } from 'zod';
import { Intent, TenantId } from './intent';
import { StepId } from './plan';
import { ErrorCode } from './errors';

/** The BullMQ queues agentry runs on. */
export const queueNames = {
  plan: 'agentry.plan',
  step: 'agentry.step',
  dlq: 'agentry.dlq',
} as const;
export type QueueName = (typeof queueNames)[keyof typeof queueNames];

/** The job states a queue's depth is reported in, as BullMQ names them (`getJobCounts`). */
export const queueDepthStates = [
  'waiting',
  'prioritized',
  'delayed',
  'active',
  'failed',
  'completed',
  'paused',
  'waiting-children',
] as const;
export type QueueDepthState = (typeof queueDepthStates)[number];

const CorrelationId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'correlation id: 1-128 of A-Z a-z 0-9 . _ : -');

/**
 * W3C Trace Context of the span that enqueued a job (`00-<trace id>-<span id>-<flags>`): the job's
 * span is its child. Set only while tracing is on; a producer may pass its own (it is linked).
 */
const Traceparent = z
  .string()
  .regex(
    /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/,
    'traceparent: W3C Trace Context, 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>',
  );

/**
 * Payload of a job on `agentry.plan`. Producers in any language may enqueue it as raw BullMQ
 * (job name `plan`); its JSON Schema is published in `docs/schemas/plan-job.schema.json`.
 * Without `runId` the run id is derived from the BullMQ job id, so a re-delivered job maps
 * to the same run.
 */
export const PlanJob = z.strictObject({
  intent: Intent,
  runId: z.uuid().optional(),
  correlationId: CorrelationId.optional(),
  traceparent: Traceparent.optional(),
});

/** Payload of a step job: ids only, the executor loads the step from the database. */
export const StepJob = z.strictObject({
  runId: z.uuid(),
  stepId: StepId,
  correlationId: CorrelationId,
  /** The run's tenant, for the job's log lines (optional: jobs of earlier releases lack it). */
  tenantId: TenantId.optional(),
  traceparent: Traceparent.optional(),
});

/** Payload of a compensation job: undo the run's completed steps in reverse order. */
export const CompensateJob = z.strictObject({
  runId: z.uuid(),
  correlationId: CorrelationId,
  reason: z.string().max(2_000),
  tenantId: TenantId.optional(),
  traceparent: Traceparent.optional(),
});

/** What lands on `agentry.dlq`: enough to inspect and replay the job that failed for good. */
export const DeadLetterJob = z.strictObject({
  deadLetterId: z.uuid(),
  sourceQueue: z.string(),
  jobId: z.string(),
  jobName: z.string(),
  reason: z.string(),
  errorCode: ErrorCode,
  attempts: z.number().int().nonnegative(),
  failedAt: z.iso.datetime(),
  runId: z.uuid().optional(),
  stepId: z.string().optional(),
  correlationId: z.string().optional(),
});

export interface BackoffSpec {
  type: 'exponential' | 'fixed';
  /** Base delay in milliseconds. */
  delayMs: number;
}

export interface JobDefinition<P extends z.ZodType = z.ZodType> {
  queue: QueueName;
  /** BullMQ job name. */
  name: string;
  payload: P;
  /** Attempts BullMQ makes before the job fails for good (a step may override with its own). */
  attempts: number;
  backoff: BackoffSpec;
  /** How long one attempt may run before its signal aborts it. */
  timeoutMs: number;
}

// Keeps the literal queue of each entry, so `JobKindOn<Q>` can tell which kinds run on a queue.
const define = <P extends z.ZodType, Q extends QueueName>(
  definition: JobDefinition<P> & { queue: Q },
): JobDefinition<P> & { queue: Q } => definition;

/**
 * The job catalog: every job agentry runs, with its queue, payload schema and policies.
 * Workers are typed from it, so a job without a handler does not compile.
 */
export const jobCatalog = {
  plan: define({
    queue: queueNames.plan,
    name: 'plan',
    payload: PlanJob,
    attempts: 5,
    backoff: { type: 'exponential', delayMs: 1_000 },
    timeoutMs: 120_000,
  }),
  step: define({
    queue: queueNames.step,
    name: 'step',
    payload: StepJob,
    attempts: 3,
    backoff: { type: 'exponential', delayMs: 1_000 },
    // The step's own timeoutMs governs the tool call; this bounds the whole attempt.
    timeoutMs: 16 * 60_000,
  }),
  compensate: define({
    queue: queueNames.step,
    name: 'compensate',
    payload: CompensateJob,
    attempts: 5,
    backoff: { type: 'exponential', delayMs: 1_000 },
    timeoutMs: 10 * 60_000,
  }),
  deadLetter: define({
    queue: queueNames.dlq,
    name: 'dead-letter',
    payload: DeadLetterJob,
    attempts: 1,
    backoff: { type: 'fixed', delayMs: 0 },
    timeoutMs: 10_000,
  }),
} as const;

export type JobCatalog = typeof jobCatalog;
export type JobKind = keyof JobCatalog;
export type JobPayload<K extends JobKind> = z.output<JobCatalog[K]['payload']>;
export type JobPayloadInput<K extends JobKind> = z.input<JobCatalog[K]['payload']>;
/** The kinds of job that run on a queue. */
export type JobKindOn<Q extends QueueName> = {
  [K in JobKind]: JobCatalog[K]['queue'] extends Q ? K : never;
}[JobKind];

/** Find the catalog entry for a BullMQ job name on a queue. */
export function jobKindFor(queue: string, name: string): JobKind | undefined {
  return (Object.keys(jobCatalog) as JobKind[]).find(
    (k) => jobCatalog[k].queue === queue && jobCatalog[k].name === name,
  );
}
