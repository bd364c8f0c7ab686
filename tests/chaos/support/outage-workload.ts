import { chaosIntent } from './chaos-templates';
import { chaosTenant, type ChaosFleet } from './chaos-fleet';
import type { Accepted, WorkloadResult } from './workload';

/** Every answer `POST /v1/runs` gave during an outage workload, by kind. */
export interface AnswerTally {
  /** 202/200 answers. */
  accepted: number;
  /** 202 answers with `queued: false`: saved, its plan job left to the reconciler. */
  acceptedNotQueued: number;
  /** 503 answers; each must carry `error.code` UNAVAILABLE and a message. */
  unavailable: number;
  /** The slowest 503, in ms (request sent → answer read). */
  unavailableMaxMs: number;
  /** 503 answers without a Retry-After header, or without code UNAVAILABLE and a message. */
  unclear: number;
  /** `error.details.reason` of the 503 answers, counted. */
  reasons: Record<string, number>;
  /** Answers other than 200, 202 and 503 (e.g. a 500), as `status code`. */
  other: string[];
  /** Requests that got no answer at all (network error, client timeout). */
  noAnswer: number;
}

export interface OutageWorkloadResult extends WorkloadResult {
  answers: AnswerTally;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Like `submitWorkload`, for a fault that makes the API refuse intents for a while: a careful
 * producer that retries a 503 or a network error with the same idempotency key, waiting what
 * `Retry-After` asks (capped at 2 s), for up to `retryForMs`. Every answer is tallied, so a
 * scenario can check that producers got fast, clear refusals. Every tenth intent is submitted
 * again once accepted, which must answer 200 with the same run.
 */
export async function submitThroughOutage(
  fleet: ChaosFleet,
  options: {
    name: string;
    count: number;
    concurrency?: number;
    spreadOverMs?: number;
    /** How long one intent is retried before the producer gives up. @default 45000 */
    retryForMs?: number;
  },
): Promise<OutageWorkloadResult> {
  const { name, count, concurrency = 4, spreadOverMs = 0, retryForMs = 45_000 } = options;
  const paceMs = (spreadOverMs * Math.min(concurrency, count)) / count;
  const answers: AnswerTally = {
    accepted: 0,
    acceptedNotQueued: 0,
    unavailable: 0,
    unavailableMaxMs: 0,
    unclear: 0,
    reasons: {},
    other: [],
    noAnswer: 0,
  };
  const result: OutageWorkloadResult = { accepted: [], resubmitted: 0, violations: [], answers };

  const submit = async (tag: string): Promise<{ runId: string; status: number }> => {
    const intent = { text: chaosIntent.run(tag), tenantId: chaosTenant, idempotencyKey: tag };
    const giveUpAt = Date.now() + retryForMs;
    let last = '';
    for (;;) {
      const sentAt = Date.now();
      let waitMs = 250;
      try {
        const res = await fleet.http<{
          runId: string;
          queued?: boolean;
          error?: { code?: string; message?: string; details?: { reason?: string } };
        }>('POST', '/v1/runs', intent);
        const ms = Date.now() - sentAt;
        if (res.status === 202 || res.status === 200) {
          answers.accepted += 1;
          if (res.body.queued === false) answers.acceptedNotQueued += 1;
          return { runId: res.body.runId, status: res.status };
        }
        last = `HTTP ${res.status}: ${JSON.stringify(res.body)}`;
        if (res.status === 503) {
          answers.unavailable += 1;
          answers.unavailableMaxMs = Math.max(answers.unavailableMaxMs, ms);
          const reason = res.body.error?.details?.reason ?? '?';
          answers.reasons[reason] = (answers.reasons[reason] ?? 0) + 1;
          const retryAfter = Number(res.headers.get('retry-after'));
          if (
            res.body.error?.code !== 'UNAVAILABLE' ||
            !res.body.error.message ||
            !Number.isFinite(retryAfter) ||
            retryAfter <= 0
          )
            answers.unclear += 1;
          else waitMs = Math.min(retryAfter * 1_000, 2_000);
        } else {
          answers.other.push(`${res.status} ${res.body.error?.code ?? ''}`);
          if (res.status < 500) break;
        }
      } catch (e) {
        answers.noAnswer += 1;
        last = String(e);
      }
      if (Date.now() + waitMs > giveUpAt) break;
      await sleep(waitMs);
    }
    throw new Error(`intent ${tag} was not accepted within ${retryForMs} ms: ${last}`);
  };

  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const tag = `${name}-${i}`;
      const { runId } = await submit(tag);
      const accepted: Accepted = { tag, kind: 'run', runId };
      result.accepted.push(accepted);
      if (i % 10 === 0) {
        const again = await submit(tag);
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
