import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosFleet } from '../../tests/chaos/support/chaos-fleet';
import { submit, type Accepted } from '../../tests/chaos/support/workload';

/** The arrivals of a soak so far. */
export interface Arrivals {
  /** Intents sent (each once; a 5xx or a network error is retried with the same key). */
  submitted: number;
  accepted: Accepted[];
  /** When each accepted run was *scheduled* to arrive (ms since the epoch), by run id. */
  scheduledAt: Map<string, number>;
  /** Intents the API did not accept after the producer's retries, with the reason. */
  refused: string[];
  /** Arrivals sent more than one interval after their scheduled instant (the driver fell behind). */
  late: number;
  /** Submissions not answered yet. */
  inFlight: number;
}

/**
 * Submit `chaos run soak-<i>` intents through `POST /v1/runs` at a steady `rate` per second until
 * `signal` aborts, open loop: arrival i is due at `start + i / rate` whatever became of the
 * earlier ones, so a slow fleet shows up as latency and backlog instead of a lower rate. Each
 * intent carries its tag as idempotency key (see `submit`). Resolves once every submission sent
 * has been answered.
 */
export async function runArrivals(
  chaos: ChaosFleet,
  rate: number,
  signal: AbortSignal,
  arrivals: Arrivals,
): Promise<void> {
  const intervalMs = 1_000 / rate;
  const startedAt = Date.now();
  const pending = new Set<Promise<void>>();
  let next = 0;
  while (!signal.aborted) {
    const now = Date.now();
    for (let due = startedAt + next * intervalMs; due <= now; due = startedAt + next * intervalMs) {
      const tag = `soak-${next}`;
      next += 1;
      if (now - due > intervalMs) arrivals.late += 1;
      arrivals.submitted += 1;
      arrivals.inFlight += 1;
      const sent = submit(chaos, 'run', tag)
        .then(({ runId }) => {
          arrivals.accepted.push({ tag, kind: 'run', runId });
          arrivals.scheduledAt.set(runId, due);
        })
        .catch((e: unknown) => {
          arrivals.refused.push(`${tag}: ${e instanceof Error ? e.message : String(e)}`);
        })
        .finally(() => {
          arrivals.inFlight -= 1;
          pending.delete(sent);
        });
      pending.add(sent);
    }
    const wait = startedAt + next * intervalMs - Date.now();
    await sleep(Math.max(1, wait), undefined, { signal }).catch(() => undefined);
  }
  await Promise.all(pending);
}

export function noArrivals(): Arrivals {
  return {
    submitted: 0,
    accepted: [],
    scheduledAt: new Map(),
    refused: [],
    late: 0,
    inFlight: 0,
  };
}
