import { Queue } from 'bullmq';
import { queueNames } from '@agentry/schema';
import { runStepIds } from './chaos-templates';
import { chaosTenant, type ChaosFleet } from './chaos-fleet';
import type { SinkReport } from './effect-sink';
import { findSecrets } from './secret-scan';
import type { Accepted } from './workload';

const terminal = new Set(['succeeded', 'failed', 'rejected', 'cancelled']);
/** Job states that mean "not done yet"; none may be left once the workload has settled. */
const unsettledStates = [
  'active',
  'waiting',
  'delayed',
  'prioritized',
  'waiting-children',
  'paused',
];

/** What {@link checkInvariants} found; `violations` empty means the scenario held. */
export interface InvariantReport {
  violations: string[];
  runs: {
    accepted: number;
    succeeded: number;
    failed: number;
    failedWithDeadLetter: number;
    rejected: number;
    cancelled: number;
  };
  deadLetters: number;
  /** Step attempts by outcome, over every run of the scenario. */
  attempts: Record<string, number>;
  sink: SinkReport;
  /** Places searched for a secret value: log lines, dead letters, Redis values, rows. */
  scanned: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Wait until every accepted run is terminal and the plan and step queues have nothing left to
 * do, then check the suite's invariants (docs/reliability.md):
 *
 * 1. every accepted intent is one run, and it ended succeeded, failed with a dead letter,
 *    rejected or cancelled, with no step and no attempt left running;
 * 2. no job is left active, waiting, delayed or stalled; every failed job has a dead letter and
 *    every dead letter is on `agentry.dlq`;
 * 3. every step recorded as succeeded had its effect applied by the sink, and no effect was
 *    applied twice (under two keys), no key named two effects, every request was keyed and every
 *    signature verified;
 * 4. no secret value appears in any log line, dead letter, database row, Redis value or metric.
 */
export async function checkInvariants(
  chaos: ChaosFleet,
  accepted: readonly Accepted[],
  options: { settleWithinMs?: number } = {},
): Promise<InvariantReport> {
  const settleWithinMs = options.settleWithinMs ?? 60_000;
  const violations: string[] = [];
  const { db } = chaos.fleet.database;
  const deadline = Date.now() + settleWithinMs;

  const runIds = [...new Set(accepted.map((a) => a.runId))];
  if (runIds.length !== accepted.length) violations.push('two intents were given the same run');
  let runs: Array<{ id: string; state: string; idempotencyKey: string | null }> = [];
  for (;;) {
    runs = await db
      .selectFrom('runs')
      .select(['id', 'state', 'idempotencyKey'])
      .where('tenantId', '=', chaosTenant)
      .execute();
    const open = runs.filter((r) => !terminal.has(r.state));
    if (open.length === 0 && runs.length >= runIds.length) break;
    if (Date.now() > deadline) {
      violations.push(
        `${open.length} runs not terminal after ${settleWithinMs} ms: ${open
          .slice(0, 5)
          .map((r) => `${r.id}=${r.state}`)
          .join(', ')}`,
      );
      break;
    }
    await sleep(250);
  }
  const known = new Set(runs.map((r) => r.id));
  const missing = runIds.filter((id) => !known.has(id));
  if (missing.length > 0) violations.push(`${missing.length} accepted runs are not in Postgres`);
  if (runs.length !== runIds.length)
    violations.push(`${runs.length} runs in Postgres for ${runIds.length} accepted intents`);
  const keys = runs.map((r) => r.idempotencyKey);
  if (new Set(keys).size !== keys.length) violations.push('an idempotency key has two runs');

  violations.push(...(await settleQueues(chaos, deadline)));

  const steps = await db
    .selectFrom('steps')
    .innerJoin('runs', 'runs.id', 'steps.runId')
    .select(['steps.runId', 'steps.stepId', 'steps.state'])
    .where('runs.tenantId', '=', chaosTenant)
    .execute();
  const attempts = await db
    .selectFrom('stepAttempts')
    .innerJoin('runs', 'runs.id', 'stepAttempts.runId')
    .select(['stepAttempts.runId', 'stepAttempts.stepId', 'stepAttempts.outcome'])
    .where('runs.tenantId', '=', chaosTenant)
    .execute();
  const letters = await db.selectFrom('deadLetters').selectAll().execute();
  const lettered = new Set(letters.map((l) => l.runId));

  const byState = (state: string) => runs.filter((r) => r.state === state);
  const failed = byState('failed');
  const unlettered = failed.filter((r) => !lettered.has(r.id));
  if (unlettered.length > 0)
    violations.push(`${unlettered.length} failed runs have no dead letter: ${unlettered[0]?.id}`);
  const stuckSteps = steps.filter((s) => s.state === 'running' || s.state === 'queued');
  if (stuckSteps.length > 0)
    violations.push(
      `${stuckSteps.length} steps of finished runs still ${stuckSteps[0]?.state}: ${stuckSteps[0]?.runId}.${stuckSteps[0]?.stepId}`,
    );
  const runningAttempts = attempts.filter((a) => a.outcome === 'running');
  if (runningAttempts.length > 0)
    violations.push(
      `${runningAttempts.length} step attempts left "running": ${runningAttempts[0]?.runId}.${runningAttempts[0]?.stepId}`,
    );

  violations.push(...checkEffects(chaos, accepted, steps, runs));

  const sink = chaos.sink.report();
  if (sink.duplicateEffects > 0) violations.push(`${sink.duplicateEffects} effects applied twice`);
  if (sink.conflictingKeys > 0) violations.push(`${sink.conflictingKeys} keys named two effects`);
  if (sink.unkeyed > 0) violations.push(`${sink.unkeyed} requests without an Idempotency-Key`);
  if (sink.badSignatures > 0) violations.push(`${sink.badSignatures} webhook signatures failed`);

  const found = await findSecrets(chaos, letters);
  violations.push(...found.leaks);

  return {
    violations,
    runs: {
      accepted: runIds.length,
      succeeded: byState('succeeded').length,
      failed: failed.length,
      failedWithDeadLetter: failed.length - unlettered.length,
      rejected: byState('rejected').length,
      cancelled: byState('cancelled').length,
    },
    deadLetters: letters.length,
    attempts: attempts.reduce<Record<string, number>>((n, a) => {
      n[a.outcome] = (n[a.outcome] ?? 0) + 1;
      return n;
    }, {}),
    sink,
    scanned: found.scanned,
  };
}

/** Poll the plan and step queues until nothing is left to do; the problems left at `deadline`. */
async function settleQueues(chaos: ChaosFleet, deadline: number): Promise<string[]> {
  const connection = chaos.fleet.connectRedis();
  const prefix = chaos.fleet.prefix;
  const open = (name: string) => new Queue(name, { connection, prefix });
  const queues = [open(queueNames.plan), open(queueNames.step)];
  const dlq = open(queueNames.dlq);
  try {
    let problems: string[] = [];
    for (;;) {
      problems = [];
      for (const queue of queues) {
        const counts = await queue.getJobCounts(
          ...(unsettledStates as Parameters<Queue['getJobCounts']>),
        );
        const stalled = await connection.scard(`${prefix}:${queue.name}:stalled`);
        const left = Object.entries({ ...counts, stalled }).filter(([, n]) => n > 0);
        if (left.length > 0)
          problems.push(`${queue.name} still has ${left.map(([s, n]) => `${n} ${s}`).join(', ')}`);
      }
      if (problems.length === 0 || Date.now() > deadline) break;
      await sleep(250);
    }
    const letters = await chaos.fleet.database.db
      .selectFrom('deadLetters')
      .select(['jobId', 'sourceQueue'])
      .execute();
    const letteredJobs = new Set(letters.map((l) => `${l.sourceQueue}/${l.jobId}`));
    for (const queue of queues) {
      const failedJobs = await queue.getFailed(0, -1);
      const unlettered = failedJobs.filter((j) => !letteredJobs.has(`${queue.name}/${j.id ?? ''}`));
      if (unlettered.length > 0)
        problems.push(`${unlettered.length} failed ${queue.name} jobs have no dead letter`);
    }
    const onDlq = await dlq.getJobCountByTypes(
      'waiting',
      'completed',
      'failed',
      'active',
      'delayed',
    );
    const queued = letters.filter((l) => l.sourceQueue !== 'api').length;
    if (onDlq !== queued) problems.push(`${queued} dead letters but ${onDlq} jobs on agentry.dlq`);
    return problems;
  } finally {
    await Promise.all([...queues, dlq].map((q) => q.close()));
    connection.disconnect();
  }
}

/** Invariant 3: effects of succeeded steps applied once; no effect of an unknown run. */
function checkEffects(
  chaos: ChaosFleet,
  accepted: readonly Accepted[],
  steps: ReadonlyArray<{ runId: string; stepId: string; state: string }>,
  runs: ReadonlyArray<{ id: string; state: string }>,
): string[] {
  const problems: string[] = [];
  const tagOf = new Map(accepted.map((a) => [a.runId, a]));
  const records = chaos.sink.records;
  let unapplied = 0;
  let wrongEffect = 0;
  for (const step of steps) {
    const record = records.get(`${step.runId}.${step.stepId}`);
    const run = tagOf.get(step.runId);
    if (step.state === 'succeeded' && record === undefined) unapplied += 1;
    if (record && run && record.effect !== `${run.tag}:${step.stepId}`) wrongEffect += 1;
  }
  if (unapplied > 0) problems.push(`${unapplied} succeeded steps whose effect never arrived`);
  if (wrongEffect > 0) problems.push(`${wrongEffect} keys applied another step's effect`);
  const incomplete = runs.filter(
    (r) =>
      r.state === 'succeeded' &&
      tagOf.get(r.id)?.kind === 'run' &&
      !runStepIds.every((s) => records.has(`${r.id}.${s}`)),
  );
  if (incomplete.length > 0) problems.push(`${incomplete.length} succeeded runs miss an effect`);
  const strays = [...records.keys()].filter((key) => !tagOf.has(key.split('.')[0] ?? ''));
  if (strays.length > 0) problems.push(`${strays.length} effects of no accepted run: ${strays[0]}`);
  return problems;
}

/** The attempt outcomes of each given run's steps, in the order they were made. */
export async function attemptOutcomes(
  chaos: ChaosFleet,
  runs: readonly Pick<Accepted, 'runId'>[],
): Promise<string[][]> {
  if (runs.length === 0) return [];
  const rows = await chaos.fleet.database.db
    .selectFrom('stepAttempts')
    .select(['runId', 'outcome'])
    .where(
      'runId',
      'in',
      runs.map((r) => r.runId),
    )
    .orderBy('id')
    .execute();
  return runs.map((r) => rows.filter((row) => row.runId === r.runId).map((row) => row.outcome));
}
