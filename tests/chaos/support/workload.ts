import { chaosIntent } from './chaos-templates';
import { chaosTenant, type ChaosFleet } from './chaos-fleet';

/** An intent the API accepted: its tag (also its idempotency key) and its run. */
export interface Accepted {
  tag: string;
  kind: keyof typeof chaosIntent;
  runId: string;
}

export interface WorkloadResult {
  accepted: Accepted[];
  /** Intents sent a second time with the same idempotency key (a producer retrying). */
  resubmitted: number;
  /** Problems seen while submitting: a resubmission answered with another run, a refusal. */
  violations: string[];
}

/**
 * The number of `chaos run` intents a scenario submits: `AGENTRY_CHAOS_RUNS`, or the scenario's
 * default (kept small enough for CI on two cores).
 */
export function chaosRuns(fallback: number): number {
  const raw = process.env.AGENTRY_CHAOS_RUNS;
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`AGENTRY_CHAOS_RUNS=${raw ?? ''}: not a count`);
  return n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Submit one intent through `POST /v1/runs` with its tag as idempotency key, as a careful producer
 * does: a network error or a 5xx is retried with the same key. Resolves with the run id.
 */
export async function submit(
  fleet: ChaosFleet,
  kind: keyof typeof chaosIntent,
  tag: string,
): Promise<{ runId: string; status: number }> {
  const intent = { text: chaosIntent[kind](tag), tenantId: chaosTenant, idempotencyKey: tag };
  let last = '';
  for (let attempt = 1; attempt <= 6; attempt++) {
    try {
      const res = await fleet.http<{ runId: string }>('POST', '/v1/runs', intent);
      if (res.status === 202 || res.status === 200)
        return { runId: res.body.runId, status: res.status };
      last = `HTTP ${res.status}: ${JSON.stringify(res.body)}`;
      if (res.status < 500) break;
    } catch (e) {
      last = String(e);
    }
    await sleep(200 * attempt);
  }
  throw new Error(`intent ${tag} was not accepted: ${last}`);
}

/**
 * Submit `count` `chaos run` intents tagged `<name>-<i>`, `concurrency` at a time, spread evenly
 * over about `spreadOverMs` (so faults land while the workload is going on, whatever the count).
 * Every tenth intent is submitted again, which must answer 200 with the same run.
 */
export async function submitWorkload(
  fleet: ChaosFleet,
  options: { name: string; count: number; concurrency?: number; spreadOverMs?: number },
): Promise<WorkloadResult> {
  const { name, count, concurrency = 4, spreadOverMs = 0 } = options;
  const paceMs = (spreadOverMs * Math.min(concurrency, count)) / count;
  const result: WorkloadResult = { accepted: [], resubmitted: 0, violations: [] };
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const tag = `${name}-${i}`;
      const { runId } = await submit(fleet, 'run', tag);
      result.accepted.push({ tag, kind: 'run', runId });
      if (i % 10 === 0) {
        const again = await submit(fleet, 'run', tag);
        result.resubmitted += 1;
        if (again.status !== 200 || again.runId !== runId)
          result.violations.push(`resubmitted ${tag}: ${again.status} ${again.runId} ≠ ${runId}`);
      }
      if (paceMs > 0) await sleep(paceMs);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return result;
}
