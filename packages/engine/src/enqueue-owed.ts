import type { JobKind, JobPayloadInput } from '@agentry/schema';
import type { EngineProducer } from './engine-deps';

const finished = ['completed', 'failed'] as const;

/**
 * Enqueue a job the database says is still owed (a queued step, the plan of a pending run) under
 * its deterministic id. BullMQ keeps finished jobs, so a finished job under that id would make the
 * enqueue a no-op and the work would wait for ever; it is stale — it ran while the work could not
 * (a step skipped while its run was parked), or its outcome never reached the database — so it is
 * replaced. A waiting, delayed or active job is left alone (`created: false`).
 */
export async function enqueueOwed<K extends JobKind>(
  producer: EngineProducer,
  kind: K,
  payload: JobPayloadInput<K>,
  options: { jobId: string; attempts?: number },
): Promise<{ created: boolean }> {
  const result = await producer.enqueue(kind, payload, options);
  if (result.created) return result;
  if (!(await producer.remove(kind, options.jobId, finished)).removed) return result;
  return producer.enqueue(kind, payload, options);
}
