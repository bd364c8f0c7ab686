import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { queueNames } from '@agentry/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetProcess } from '../support/fleet-process';
import { ChaosFleet } from './support/chaos-fleet';
import { ExecutorSupervisor } from './support/executor-supervisor';
import { checkInvariants } from './support/invariants';
import { submitThroughOutage } from './support/outage-workload';
import { printSummary } from './support/print-summary';
import { PrivatePostgres } from './support/private-postgres';
import { watchReadiness } from './support/redis-faults';
import { chaosRuns } from './support/workload';

const outageMs = 20_000;
const healthyBeforeMs = 4_000;
/** Between the outage and the crash: long enough for the fleet to be back at work. */
const healthyBetweenMs = 5_000;
/** The second fault: the postmaster killed outright (`-m immediate`), crash recovery at start. */
const crashMs = 5_000;
const healthyAfterMs = 5_000;
/** The client's timeout of every API call (`TestFleet.http`): an answer after it is a hang. */
const clientTimeoutMs = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait (up to 10 s) until steps are mid-call at the sink; how many are. */
async function stepsInFlight(chaos: ChaosFleet): Promise<number> {
  const until = Date.now() + 10_000;
  while (chaos.sink.inFlight() === 0 && Date.now() < until) await sleep(20);
  return chaos.sink.inFlight();
}

/** How many log lines of all processes say `msg`. */
function linesOf(processes: readonly FleetProcess[], msg: string): number {
  return processes.reduce((n, p) => n + p.lines.filter((l) => l.msg === msg).length, 0);
}

/** Warn and error lines of every process, by app and message: what an operator saw. */
function warningsOf(processes: readonly FleetProcess[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of processes)
    for (const l of p.lines) {
      if (l.level !== 'warn' && l.level !== 'error' && l.level !== 'fatal') continue;
      const key = `${p.app} ${l.level}: ${l.msg ?? ''}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
  return counts;
}

/** One `GET /v1/runs/:id` while the database is away: its status (0: no answer) and time. */
interface Read {
  at: number;
  status: number;
  ms: number;
  code?: string;
}

/** Read a run over the API every `everyMs` until `stop()`: what an operator's dashboard does. */
function watchReads(chaos: ChaosFleet, runId: () => string | undefined, everyMs = 500) {
  const reads: Read[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const id = runId();
      if (id !== undefined) {
        const at = Date.now();
        const read = await chaos.http<{ error?: { code?: string } }>('GET', `/v1/runs/${id}`).then(
          (r) => ({ status: r.status, code: r.body?.error?.code }),
          () => ({ status: 0, code: undefined }),
        );
        reads.push({
          at,
          ms: Date.now() - at,
          status: read.status,
          ...(read.code && { code: read.code }),
        });
      }
      await sleep(everyMs);
    }
  })();
  return {
    async stop(): Promise<Read[]> {
      stopped = true;
      await loop;
      return reads;
    },
  };
}

/**
 * Scenario 5 of issue 8: stop Postgres for 20 s with steps in flight. The fleet runs on a private
 * PostgreSQL cluster (`PrivatePostgres`, port 5440–5444) that is shut down (`pg_ctl -m fast`)
 * while the executors are mid-call and started again 20 s later; a little after that it is killed
 * outright for 5 s (`-m immediate`: in-flight transactions lost, crash recovery at the next start).
 * Postgres is the source of truth, so a step whose result cannot be committed must not be
 * acknowledged in BullMQ: its job waits for the database without using an attempt, the step runs
 * again once it is back, and its side effect — already applied at the sink — is not applied again
 * (the sink dedupes by the step's idempotency key). Passes when, besides the invariants, every step
 * job BullMQ recorded as completed has its step `succeeded` in Postgres and its effect at the sink,
 * the API answered 503 (not a hang, not a 500) to submissions and reads while the database was
 * down, /readyz went not-ready and ready again, no process crash-looped, and every run succeeded.
 */
describe('chaos 5: Postgres stopped for 20 s, then crashed', () => {
  let pg: PrivatePostgres;
  let chaos: ChaosFleet;
  let supervisor: ExecutorSupervisor;
  let planner: FleetProcess;
  let api: FleetProcess;
  beforeAll(async () => {
    pg = await PrivatePostgres.create();
    chaos = await ChaosFleet.create({ delayMs: 300, env: { DATABASE_URL: pg.url } });
    supervisor = new ExecutorSupervisor(chaos);
    [api, planner] = await Promise.all([
      chaos.startApi(),
      chaos.startPlanner(),
      supervisor.start(2),
    ]).then(([a, p]) => [a, p] as const);
  }, 120_000);
  afterAll(async () => {
    await supervisor?.stop();
    await chaos?.close();
    await pg?.close();
  }, 120_000);

  it('acknowledges no step without its commit, answers 503 while down, and finishes every run once it is back', async () => {
    const startedAt = Date.now();
    const count = chaosRuns(150);
    const readiness = watchReadiness(chaos);
    const workload = submitThroughOutage(chaos, {
      name: 'pg',
      count,
      spreadOverMs: healthyBeforeMs + outageMs + healthyBetweenMs + crashMs + healthyAfterMs,
      retryForMs: outageMs + 30_000,
    });
    const read: { runId?: string | undefined } = {};
    const reads = watchReads(chaos, () => read.runId);

    await sleep(healthyBeforeMs);
    // A run to read while the database is away.
    read.runId = (await chaos.fleet.database.db.selectFrom('runs').select('id').executeTakeFirst())
      ?.id;
    const inFlightAtStop = await stepsInFlight(chaos);
    const stoppedAt = Date.now();
    await pg.stop('fast');
    // `until`: when the restart began (the server may accept connections before pg_ctl returns);
    // `to`: when it was up again.
    const down = { from: Date.now(), until: 0, to: 0 };
    await sleep(outageMs);
    down.until = Date.now();
    await pg.start();
    down.to = Date.now();

    // Then a crash: every backend killed at once, in-flight transactions lost, recovery at start.
    await sleep(healthyBetweenMs);
    const inFlightAtCrash = await stepsInFlight(chaos);
    await pg.stop('immediate');
    const crashed = { from: Date.now(), to: 0 };
    await sleep(crashMs);
    await pg.start();
    crashed.to = Date.now();

    const submitted = await workload.catch((e: unknown) => {
      // Refused for good: say which process is gone, and why.
      const gone = chaos.processes.filter((p) => !p.running);
      const why = gone.map((p) => `${p.app} ${String(p.pid)}: ${p.stderr.join('').slice(-1500)}`);
      throw new Error(`${String(e)}\nexited: ${why.join('\n') || 'none'}`);
    });
    const allReads = await reads.stop();
    const report = await checkInvariants(chaos, submitted.accepted, { settleWithinMs: 120_000 });
    const ready = readiness.stop();

    // No step acknowledged without its commit: every completed step job has its step succeeded.
    const connection = new Redis(chaos.fleet.redisUrl, { maxRetriesPerRequest: null });
    const stepQueue = new Queue(queueNames.step, { connection, prefix: chaos.fleet.prefix });
    const completed = (await stepQueue.getCompleted(0, -1)) as Array<
      Job<unknown, { outcome?: string } | undefined>
    >;
    await stepQueue.close();
    connection.disconnect();
    const stepRows = await chaos.fleet.database.db
      .selectFrom('steps')
      .select(['runId', 'stepId', 'state', 'finishedAt'])
      .execute();
    const stateOf = new Map(stepRows.map((s) => [`${s.runId}.${s.stepId}`, s]));
    const unbacked: string[] = [];
    const effectless: string[] = [];
    const ackedFirst: string[] = [];
    for (const job of completed) {
      // A step job that ran its step (not one that found nothing to do: a run already failed).
      if (job.name !== 'step' || job.returnvalue?.outcome !== 'succeeded') continue;
      const { runId, stepId } = job.data as { runId: string; stepId: string };
      const key = `${runId}.${stepId}`;
      const row = stateOf.get(key);
      if (row?.state !== 'succeeded')
        unbacked.push(
          `${job.id ?? '?'}: ${row?.state ?? 'no row'} ${JSON.stringify(job.returnvalue)}`,
        );
      if (!chaos.sink.records.has(key)) effectless.push(job.id ?? '?');
      // The commit's time (the executor's clock as it called it) is before BullMQ's (its clock
      // as it acknowledged): the same clock, so the order is the order of events.
      const committedAt = row?.finishedAt ? new Date(row.finishedAt).getTime() : Infinity;
      if (committedAt > (job.finishedOn ?? 0)) ackedFirst.push(job.id ?? '?');
    }

    const processes = [...chaos.processes];
    const exits = processes.filter((p) => !p.running).map((p) => `${p.app} ${String(p.pid)}`);
    const whileDown = (r: { at: number }) => r.at >= down.from + 2_000 && r.at < down.until;
    const readsWhileDown = allReads.filter(whileDown);
    const { answers } = submitted;
    printSummary(
      'postgres-stop',
      report,
      {
        outageMs: down.to - down.from,
        stopMs: down.from - stoppedAt,
        sinkCallsOpenAtStop: inFlightAtStop,
        crashMs: crashed.to - crashed.from,
        sinkCallsOpenAtCrash: inFlightAtCrash,
        jobsPostponed: linesOf(
          processes,
          'database unavailable: job postponed without using an attempt',
        ),
        completedStepJobs: completed.filter((j) => j.name === 'step').length,
        completedWithoutCommit: unbacked.length,
        acknowledgedBeforeCommit: ackedFirst.length,
        answered503: answers.unavailable,
        max503Ms: answers.unavailableMaxMs,
        reasons503: answers.reasons,
        otherAnswers: answers.other,
        noAnswer: answers.noAnswer,
        readsWhileDown: readsWhileDown.reduce<Record<string, number>>((n, r) => {
          const k = `${r.status}${r.code ? ` ${r.code}` : ''}`;
          n[k] = (n[k] ?? 0) + 1;
          return n;
        }, {}),
        maxReadMsWhileDown: Math.max(0, ...readsWhileDown.map((r) => r.ms)),
        readyzNotReadyWhileDown: ready.notReadyBetween(down.from + 2_500, down.until),
        readyzReadyAfterMs: ready.readyAfter(down.to),
        processExits: exits,
        warnings: warningsOf(processes),
        executorRestarts: supervisor.started.length - 2,
        resubmitted: submitted.resubmitted,
      },
      startedAt,
    );

    expect([...submitted.violations, ...report.violations]).toEqual([]);
    expect(report.runs.accepted).toBe(count);
    expect(report.runs.succeeded).toBe(count);
    // Steps were mid-call when the database went away, and their jobs waited for it.
    expect(inFlightAtStop).toBeGreaterThan(0);
    expect(inFlightAtCrash).toBeGreaterThan(0);
    expect(
      linesOf(processes, 'database unavailable: job postponed without using an attempt'),
    ).toBeGreaterThan(0);
    // Nothing acknowledged in BullMQ without its Postgres commit (and its effect at the sink).
    expect(completed.length).toBeGreaterThan(0);
    expect(unbacked).toEqual([]);
    expect(ackedFirst).toEqual([]);
    expect(effectless).toEqual([]);
    // Producers and readers got fast, clear refusals while it was down: 503, never a hang or a 500.
    expect(answers.unavailable).toBeGreaterThan(0);
    expect(answers.unclear).toBe(0);
    expect(answers.other).toEqual([]);
    expect(answers.noAnswer).toBe(0);
    expect(answers.unavailableMaxMs).toBeLessThan(clientTimeoutMs);
    expect(readsWhileDown.length).toBeGreaterThan(0);
    expect(readsWhileDown.filter((r) => r.status !== 503)).toEqual([]);
    // /readyz went not-ready while Postgres was down, and ready again after.
    expect(ready.notReadyBetween(down.from + 2_500, down.until)).toBeGreaterThan(0);
    expect(ready.readyAfter(down.to)).toBeGreaterThanOrEqual(0);
    // No crash loop: planner and API rode it out; executors, if any exited, were replaced.
    expect(planner.running && api.running).toBe(true);
    expect(supervisor.live).toHaveLength(2);
  }, 240_000);
});
