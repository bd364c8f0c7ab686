import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { completedRetention, failedRetention, jobOptionsFor, redisKeyPrefix } from '@agentry/queue';
import { createPgPool, deleteKeys, redisUrl, uniqueBase } from './bench-env';

/**
 * The naive pipeline a team would hand-roll with raw BullMQ + pg, as the baseline for agentry's
 * end-to-end throughput. Per run: one statement inserts the plan row and its 3 step rows, then
 * step 1 is enqueued; each step job marks its row succeeded (with the echo "tool" output) and
 * enqueues the next step; step 3 marks the plan succeeded. Same job options and retention as
 * agentry (attempts, backoff, deterministic ids), same pool size, same worker concurrency.
 *
 * What it does not do (and agentry does): parse the payload on enqueue and dequeue, record the run
 * before planning, plan and validate, claim a step under a row lock (so a re-delivered step is
 * skipped), keep an attempt history, time out and cancel tools, dead-letter jobs that fail for
 * good, fail runs and compensate, check an enqueue really created the job.
 */
export interface ReferencePipeline {
  start(): Promise<void>;
  /** Insert a 3-step plan and enqueue step 1; returns the plan id. */
  submit(): Promise<string>;
  countSucceeded(planIds: readonly string[]): Promise<number>;
  /** Finish instants (ms since epoch) of the succeeded plans among `planIds`. */
  finishedAt(planIds: readonly string[]): Promise<Map<string, number>>;
  /** Stop the worker (the tables stay until the schema is dropped). */
  stop(): Promise<void>;
  close(): Promise<void>;
}

const queueName = 'ref.step';
const stepCount = 3;

interface RefStepJob {
  planId: string;
  step: number;
}

export async function openReferencePipeline(options: {
  schema: string;
  concurrency: number;
  poolMax: number;
}): Promise<ReferencePipeline> {
  const base = uniqueBase('ref');
  const prefix = redisKeyPrefix(base);
  const pool = createPgPool(options.schema, options.poolMax);
  await pool.query(`
    create table if not exists ref_plans (
      id uuid primary key,
      state text not null default 'running',
      created_at timestamptz not null default now(),
      finished_at timestamptz
    );
    create table if not exists ref_steps (
      plan_id uuid not null references ref_plans (id) on delete cascade,
      step_no integer not null,
      tool text not null,
      input jsonb not null,
      state text not null default 'pending',
      output jsonb,
      finished_at timestamptz,
      primary key (plan_id, step_no)
    );`);
  const producerConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<RefStepJob>(queueName, { connection: producerConnection, prefix });
  const enqueue = (planId: string, step: number) => {
    const jobId = `ref.${planId}.${step}`;
    return queue.add('step', { planId, step }, jobOptionsFor('step', jobId));
  };

  let worker: Worker<RefStepJob> | undefined;
  let workerConnection: Redis | undefined;

  const process = async (job: { data: RefStepJob }) => {
    const { planId, step } = job.data;
    const { rows } = await pool.query(
      `update ref_steps set state = 'succeeded', output = input, finished_at = $3
         where plan_id = $1 and step_no = $2 returning output`,
      [planId, step, new Date()],
    );
    if (step < stepCount) await enqueue(planId, step + 1);
    else
      await pool.query(`update ref_plans set state = 'succeeded', finished_at = $2 where id = $1`, [
        planId,
        new Date(),
      ]);
    return rows[0]?.output ?? null;
  };

  const stop = async () => {
    await worker?.close();
    await workerConnection?.quit();
    worker = undefined;
    workerConnection = undefined;
  };

  return {
    async start() {
      workerConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
      worker = new Worker<RefStepJob>(queueName, process, {
        connection: workerConnection,
        prefix,
        concurrency: options.concurrency,
        removeOnComplete: completedRetention,
        removeOnFail: failedRetention,
      });
      worker.on('error', (err) => console.warn(`reference worker error: ${err.message}`));
      await worker.waitUntilReady();
    },
    async submit() {
      const planId = randomUUID();
      const steps = Array.from({ length: stepCount }, (_, i) => ({
        tool: 'echo',
        input: { message: `step ${i + 1} of ${stepCount}` },
      }));
      await pool.query(
        `with plan as (insert into ref_plans (id) values ($1) returning id)
         insert into ref_steps (plan_id, step_no, tool, input)
         select plan.id, s.ordinality, s.value ->> 'tool', s.value -> 'input'
           from plan, jsonb_array_elements($2::jsonb) with ordinality as s`,
        [planId, JSON.stringify(steps)],
      );
      await enqueue(planId, 1);
      return planId;
    },
    async countSucceeded(planIds) {
      const { rows } = await pool.query(
        `select count(*)::int as n from ref_plans where id = any($1::uuid[]) and state = 'succeeded'`,
        [planIds],
      );
      return Number(rows[0]?.n ?? 0);
    },
    async finishedAt(planIds) {
      const { rows } = await pool.query(
        `select id, finished_at from ref_plans where id = any($1::uuid[]) and finished_at is not null`,
        [planIds],
      );
      return new Map(rows.map((r) => [String(r.id), (r.finished_at as Date).getTime()]));
    },
    stop,
    async close() {
      try {
        await stop();
        await queue.close();
        await producerConnection.quit();
      } finally {
        await pool.end();
        await deleteKeys(base);
      }
    },
  };
}
