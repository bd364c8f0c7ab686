import type { RecordedRequest } from '@agentry/llm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetProcess } from '../support/fleet-process';
import { ChaosFleet } from './support/chaos-fleet';
import { checkInvariants } from './support/invariants';
import {
  ChaosModels,
  modelNames,
  outagePolicy,
  plannerConcurrency,
  tagOf,
} from './support/model-outage';
import { printSummary } from './support/print-summary';
import { findSecretValues } from './support/secret-scan';
import { chaosRuns, submitWorkload } from './support/workload';

/** How long the primary provider fails: `AGENTRY_CHAOS_LLM_OUTAGE_MS`, a minute by default. */
function outageMs(): number {
  const raw = process.env.AGENTRY_CHAOS_LLM_OUTAGE_MS;
  const ms = raw === undefined || raw === '' ? 60_000 : Number(raw);
  if (!Number.isInteger(ms) || ms < 10_000)
    throw new Error(`AGENTRY_CHAOS_LLM_OUTAGE_MS=${raw ?? ''}: a whole number of ms ≥ 10000`);
  return ms;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const healthyBeforeMs = 3_000;
/** Long enough after the outage for the circuit to probe, close and plan a few runs. */
const healthyAfterMs = 2 * outagePolicy.breaker.halfOpenAfterMs;

/**
 * The most calls the primary may receive while it fails, from the planner's configuration:
 *
 * - while the circuit is still closed, the failures that open it: over the window it needs
 *   `minCalls` outcomes of which a `threshold` share failed, so with `S` successes still in the
 *   window at most `max(minCalls, ⌈S·t/(1−t)⌉)` failures; plus the calls already on the wire
 *   when it opens — one per plan job in flight besides the one that opened it (concurrency − 1);
 * - while it is open, none; after each `halfOpenAfterMs`, `halfOpenProbes` probes, and a failing
 *   probe opens it again: at most `⌈outage / halfOpenAfterMs⌉ × halfOpenProbes`.
 *
 * Retries are included: the retry is outside the circuit, so every attempt is one call it counts
 * (an attempt the circuit refuses reaches nobody). Repair rounds too: an unusable answer is a
 * failure of the provider. Per planner process (each has its own circuit); this scenario runs one.
 */
export function primaryCallBound(successesInWindow: number, outage: number) {
  const { threshold: t, minCalls, halfOpenAfterMs, halfOpenProbes } = outagePolicy.breaker;
  const toOpen = Math.max(minCalls, Math.ceil((successesInWindow * t) / (1 - t)));
  const inFlight = plannerConcurrency - 1;
  const probes = Math.ceil(outage / halfOpenAfterMs) * halfOpenProbes;
  return { toOpen, inFlight, probes, total: toOpen + inFlight + probes };
}

/** `name{labels} value` lines of a Prometheus text page, summed over the series matching `labels`. */
function metricValue(page: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of page.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * Scenario 8 of issue 8: the LLM provider fails for a minute. The planner plans every `chaos run`
 * intent with a model — primary (OpenAI API) behind timeout, retry and circuit breaker, then a
 * healthy fallback (Anthropic API), then the templates. Both are fake model servers on 127.0.0.1
 * that plan the same steps against the effect sink. For `AGENTRY_CHAOS_LLM_OUTAGE_MS` (60 s) the
 * primary answers every call with a 500, a 429 (Retry-After 1 s), a hang, a non-JSON body, a plan
 * breaking the schema or prose, in turn. Passes when the circuit opened and closed again after
 * the outage, the primary received no more calls than the configuration allows, every plan made
 * while it failed came from the fallback and every plan after recovery from the primary again,
 * every hang was cut by the client, and every run succeeded with its effects applied once.
 */
describe('chaos 8: the LLM provider fails for a minute', () => {
  let models: ChaosModels;
  let chaos: ChaosFleet;
  let planner: FleetProcess;
  let metricsUrl: string;
  beforeAll(async () => {
    models = await ChaosModels.start();
    chaos = await ChaosFleet.create({ delayMs: 100, env: models.env });
    models.planAgainst(chaos.sink.url, 100);
    const started = await Promise.all([
      chaos.startPlanner(),
      chaos.startApi(),
      chaos.startExecutor(),
    ]);
    planner = started[0];
    const { port } = await planner.waitForLog((l) => l.msg === 'health server listening');
    metricsUrl = `http://127.0.0.1:${String(port)}/metrics`;
  }, 120_000);
  afterAll(async () => {
    await chaos?.close();
    await models?.close();
  }, 120_000);

  it('opens the circuit, plans with the fallback, bounds the calls to the failing provider and recovers', async () => {
    const startedAt = Date.now();
    const outage = outageMs();
    const count = chaosRuns(100);
    const afterCount = healthyAfterMs / 1_000;
    const workload = submitWorkload(chaos, {
      name: 'llm',
      count,
      spreadOverMs: healthyBeforeMs + outage,
    });
    await sleep(healthyBeforeMs);
    const t0 = models.startOutage();
    await sleep(outage);
    const t1 = models.endOutage();
    // Intents keep coming after the outage (one a second, whatever the workload's size): the
    // first one after the open period is the probe that closes the circuit.
    const after = await submitWorkload(chaos, {
      name: 'llm-after',
      count: afterCount,
      concurrency: 1,
      spreadOverMs: healthyAfterMs,
    });
    const before = await workload;
    const submitted = {
      accepted: [...before.accepted, ...after.accepted],
      resubmitted: before.resubmitted + after.resubmitted,
      violations: [...before.violations, ...after.violations],
    };
    const report = await checkInvariants(chaos, submitted.accepted, { settleWithinMs: 90_000 });
    const metrics = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();

    // Who planned each run, and when the plan was saved.
    const tagOfRun = new Map(submitted.accepted.map((a) => [a.runId, a.tag]));
    const plans = await chaos.fleet.database.db
      .selectFrom('plans')
      .select(['runId', 'producedBy', 'source', 'createdAt'])
      .execute();
    const byTag = (requests: readonly RecordedRequest[]) => {
      const map = new Map<string, RecordedRequest[]>();
      for (const r of requests) {
        const tag = tagOf(r);
        if (tag !== undefined) map.set(tag, [...(map.get(tag) ?? []), r]);
      }
      return map;
    };
    const primaryByTag = byTag(models.primary.requests);
    const fallbackByTag = byTag(models.fallback.requests);
    const answeredByPrimary = (tag: string) =>
      (primaryByTag.get(tag) ?? []).some((r) => r.answer === 'plan');
    const producers: Record<string, number> = {};
    const misattributed: string[] = [];
    // Runs the fallback planned that it was not asked exactly once about.
    const fallbackAskedAgain: string[] = [];
    const primaryDuringOutage: string[] = [];
    let plannedDuringOutage = 0;
    let primaryAfterOutage = 0;
    for (const plan of plans) {
      const tag = tagOfRun.get(plan.runId) ?? '?';
      producers[plan.producedBy] = (producers[plan.producedBy] ?? 0) + 1;
      const byPrimary = plan.producedBy === modelNames.primaryProducer;
      // The plan names the model that answered it, as the servers saw it.
      if (byPrimary !== answeredByPrimary(tag)) misattributed.push(`${tag}: ${plan.producedBy}`);
      const askedFallback = fallbackByTag.get(tag)?.length ?? 0;
      if (askedFallback !== (byPrimary ? 0 : 1))
        fallbackAskedAgain.push(`${tag}: ${askedFallback}`);
      const savedAt = new Date(plan.createdAt).getTime();
      if (savedAt > t1 && byPrimary) primaryAfterOutage += 1;
      if (savedAt < t0 || savedAt > t1) continue;
      plannedDuringOutage += 1;
      // Saved while the primary failed: only a job whose primary answer came just before may say so.
      const earlyAnswer = (primaryByTag.get(tag) ?? []).some(
        (r) => r.answer === 'plan' && r.at < t0,
      );
      if (byPrimary && !earlyAnswer) primaryDuringOutage.push(tag);
    }

    // The calls the failing primary received, against the bound its configuration sets.
    const during = models.duringOutage();
    const { windowMs } = outagePolicy.breaker;
    const successesInWindow = models.primary.requests.filter(
      (r) => r.answer === 'plan' && r.at >= t0 - windowMs - 1_000 && r.at < t0,
    ).length;
    const bound = primaryCallBound(successesInWindow, t1 - t0);
    const faults = during.reduce<Record<string, number>>((n, r) => {
      n[r.answer] = (n[r.answer] ?? 0) + 1;
      return n;
    }, {});
    const hangs = models.primary.requests.filter((r) => r.answer === 'hang');
    const transitions = (to: string) =>
      metricValue(metrics, 'agentry_llm_breaker_transitions_total', { ...primary, to });
    const primary = { provider: 'openai', model: modelNames.primary };
    // The primary's circuit, as the planner logged it: [s since the outage began, state entered].
    const breakerTimeline = planner.lines
      .filter((l) => l.msg?.startsWith('circuit ') && l.provider === primary.provider)
      .map(
        (l) => [Math.round((Date.parse(String(l.time)) - t0) / 100) / 10, String(l.to)] as const,
      );
    const opened = breakerTimeline.filter(([, to]) => to === 'OPEN');
    // Closures in the logs' own milliseconds: the timeline above is rounded to 0.1 s, and a
    // closure 40 ms after recovery rounds onto the outage's last tenth.
    const closedAtMs = planner.lines
      .filter((l) => l.msg?.startsWith('circuit ') && l.provider === primary.provider)
      .filter((l) => String(l.to) === 'CLOSED')
      .map((l) => Date.parse(String(l.time)));
    const firstHealthyAnswer = Math.min(
      ...models.primary.requests.filter((r) => r.answer === 'plan' && r.at >= t1).map((r) => r.at),
    );
    const fallbackPlans = producers[modelNames.fallbackProducer] ?? 0;

    const llmSecrets = await findSecretValues(chaos.fleet, {
      CHAOS_LLM_PRIMARY_KEY: models.keys.primary,
      CHAOS_LLM_FALLBACK_KEY: models.keys.fallback,
    });

    printSummary(
      'llm-outage',
      report,
      {
        outageMs: t1 - t0,
        producers,
        plannedDuringOutage,
        primaryAfterOutage,
        primaryCalls: models.primary.requestCount(),
        primaryCallsDuringOutage: during.length,
        breakerTimeline,
        primaryCallBound: bound,
        successesInWindowAtOutage: successesInWindow,
        faultsDealt: faults,
        hungCutAfterMs: hangs.map((r) => r.hungForMs ?? -1),
        fallbackCalls: models.fallback.requestCount(),
        breakerTransitions: {
          OPEN: transitions('OPEN'),
          HALF_OPEN: transitions('HALF_OPEN'),
          CLOSED: transitions('CLOSED'),
        },
        retries: metricValue(metrics, 'agentry_llm_retries_total', primary),
        timeouts: metricValue(metrics, 'agentry_llm_timeouts_total', primary),
        primarySkipped: metricValue(metrics, 'agentry_planner_hops_total', {
          planner: `llm:${primary.provider}:${primary.model}`,
          outcome: 'skipped',
        }),
        misattributed: misattributed.length,
        resubmitted: submitted.resubmitted,
        llmKeysScanned: llmSecrets.scanned,
      },
      startedAt,
    );

    expect([...submitted.violations, ...report.violations, ...llmSecrets.leaks]).toEqual([]);
    // No run lost: the fallback is healthy, so every run was planned by a model and succeeded.
    expect(report.runs.accepted).toBe(count + afterCount);
    expect(report.runs.succeeded).toBe(count + afterCount);
    expect(Object.keys(producers).sort()).toEqual(
      [modelNames.fallbackProducer, modelNames.primaryProducer].sort(),
    );
    expect(plans.every((p) => p.source === 'llm')).toBe(true);
    expect(misattributed).toEqual([]);
    // The circuit opened during the outage and closed again after it.
    expect(opened.length).toBeGreaterThan(0);
    expect(transitions('OPEN')).toBeGreaterThan(0);
    // Closed again only once the provider answered: never while it failed, once after.
    expect(closedAtMs.filter((at) => at < firstHealthyAnswer)).toEqual([]);
    expect(closedAtMs.length).toBeGreaterThan(0);
    expect(metricValue(metrics, 'agentry_llm_breaker_state', primary)).toBe(0);
    // Calls to the failing provider are bounded by the configuration, not by the workload.
    expect(during.length).toBeGreaterThan(0);
    expect(during.length).toBeLessThanOrEqual(bound.total);
    // Plans made while it failed came from the fallback; after recovery, from the primary again.
    expect(plannedDuringOutage).toBeGreaterThan(0);
    expect(primaryDuringOutage).toEqual([]);
    expect(fallbackPlans).toBeGreaterThan(0);
    expect(primaryAfterOutage).toBeGreaterThan(0);
    // The fallback was asked once per plan it made: no hidden retry above the provider's own.
    expect(models.fallback.requestCount()).toBe(fallbackPlans);
    expect(fallbackAskedAgain).toEqual([]);
    // Every hang was cut by the planner's attempt timeout, none left open.
    expect(hangs.length).toBeGreaterThan(0);
    expect(hangs.every((r) => r.hungForMs !== undefined)).toBe(true);
    expect(models.primary.openHungRequests()).toBe(0);
    expect(metricValue(metrics, 'agentry_llm_timeouts_total', primary)).toBeGreaterThan(0);
  }, 240_000);
});
