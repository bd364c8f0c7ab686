import { createHash } from 'node:crypto';

/**
 * Deterministic ids. BullMQ treats a repeated `add` with an existing job id as a no-op, so every
 * job agentry enqueues gets an id derived from what it is for. (BullMQ refuses ":" in custom ids.)
 */
export const jobIds = {
  plan: (runId: string) => `plan.${runId}`,
  step: (runId: string, stepId: string) => `step.${runId}.${stepId}`,
  compensate: (runId: string) => `compensate.${runId}`,
  deadLetter: (deadLetterId: string) => `dl.${deadLetterId}`,
};

/** A stable UUID (v5-shaped, from SHA-256) for a name: the same name always gives the same id. */
export function stableUuid(name: string): string {
  const h = createHash('sha256').update(`agentry:${name}`).digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The run id of a plan job: its own `runId`, else derived from the BullMQ job id. */
export function runIdForPlanJob(jobId: string, runId: string | undefined): string {
  return runId ?? stableUuid(`plan-job:${jobId}`);
}
