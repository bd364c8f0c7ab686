import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  completedRetention,
  createWorkerRuntime,
  failedRetention,
  jobOptionsFor,
  noopLogger,
  redisKeyPrefix,
} from '@agentry/queue';
import { jobIds, queueNames } from '@agentry/schema';
import { deleteKeys, redisUrl, uniqueBase, waitFor } from './bench-env';
import { combineUsage, limitOf, startResourceSampler, type ResourceUsage } from './resources';
import { median, type Figure } from './stats';

const section = 'worker runtime overhead';
const concurrency = 16;
const jobsPerRound = 8_000;
const warmupJobs = 2_000;
const rounds = 8;
const roundTimeoutMs = 60_000;

type Variant = 'bullmq' | 'agentry';

/** A no-op consumer on agentry.step; `processed` counts handler calls. */
interface Consumer {
  start(): Promise<void>;
  close(): Promise<void>;
}

function rawWorker(prefix: string, onJob: () => void): Consumer {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker(
    queueNames.step,
    async () => {
      onJob();
      return null;
    },
    {
      connection,
      prefix,
      concurrency,
      autorun: false,
      removeOnComplete: completedRetention,
      removeOnFail: failedRetention,
    },
  );
  worker.on('error', (err) => console.warn(`raw worker error: ${err.message}`));
  return {
    start: async () => {
      worker.run().catch((err: unknown) => console.warn(`raw worker loop: ${String(err)}`));
      await worker.waitUntilReady();
    },
    close: async () => {
      await worker.close();
      await connection.quit();
    },
  };
}

function agentryWorker(prefix: string, onJob: () => void): Consumer {
  const runtime = createWorkerRuntime({
    queue: queueNames.step,
    connection: { url: redisUrl },
    prefix,
    concurrency,
    log: noopLogger,
    deadLetters: {
      capture: () => Promise.reject(new Error('no job is expected to fail in this bench')),
    },
    handlers: {
      step: async () => {
        onJob();
        return null;
      },
      compensate: async () => null,
    },
  });
  return { start: () => runtime.start(), close: () => runtime.close({ deadlineMs: 5_000 }) };
}

/**
 * Pre-fill `jobs` step jobs on a paused queue under a fresh prefix, start the consumer, resume
 * the queue and time until the handler ran for every job. Returns jobs/s and where the CPU went.
 */
async function drainRound(
  variant: Variant,
  jobs: number,
): Promise<{ rate: number; usage: ResourceUsage }> {
  const base = uniqueBase(`wo-${variant === 'bullmq' ? 'b' : 'a'}`);
  const prefix = redisKeyPrefix(base);
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(queueNames.step, { connection, prefix });
  let processed = 0;
  const consumer = (variant === 'bullmq' ? rawWorker : agentryWorker)(prefix, () => {
    processed += 1;
  });
  try {
    await queue.pause();
    const correlationId = 'bench';
    for (let offset = 0; offset < jobs; offset += 1_000) {
      const chunk = Array.from({ length: Math.min(1_000, jobs - offset) }, () => {
        const runId = randomUUID();
        const jobId = jobIds.step(runId, 's1');
        return {
          name: 'step',
          data: { runId, stepId: 's1', correlationId },
          opts: jobOptionsFor('step', jobId),
        };
      });
      await queue.addBulk(chunk);
    }
    await consumer.start();
    const sampler = await startResourceSampler();
    const startedAt = performance.now();
    await queue.resume();
    await waitFor(
      `${variant}: ${jobs} no-op jobs`,
      async () => (processed >= jobs ? true : undefined),
      { timeoutMs: roundTimeoutMs, intervalMs: 2 },
    );
    const rate = jobs / ((performance.now() - startedAt) / 1_000);
    return { rate, usage: await sampler.stop() };
  } finally {
    await consumer.close();
    await queue.close();
    await connection.quit();
    await deleteKeys(base);
  }
}

/**
 * Raw BullMQ `Worker` vs `createWorkerRuntime`, both with an async no-op processor on
 * agentry.step, concurrency 16, the catalog's job options and retention, alternating rounds.
 */
export async function benchWorkerOverhead(): Promise<Figure[]> {
  await drainRound('bullmq', warmupJobs);
  await drainRound('agentry', warmupJobs);
  const rates: Record<Variant, number[]> = { bullmq: [], agentry: [] };
  const usages: Record<Variant, ResourceUsage[]> = { bullmq: [], agentry: [] };
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first so a slow phase of the machine does not favour one side.
    const order: Variant[] = round % 2 === 0 ? ['bullmq', 'agentry'] : ['agentry', 'bullmq'];
    for (const variant of order) {
      const { rate, usage } = await drainRound(variant, jobsPerRound);
      rates[variant].push(rate);
      usages[variant].push(usage);
      console.log(`  round ${round + 1} ${variant.padEnd(7)} ${rate.toFixed(0)} jobs/s`);
    }
  }
  const raw = median(rates.bullmq);
  const agentry = median(rates.agentry);
  // The machine is shared: pair each agentry drain with the raw drain next to it in time.
  const ratios = rates.agentry.map((a, i) => a / (rates.bullmq[i] ?? Number.NaN));
  const limit = (variant: Variant) =>
    limitOf(combineUsage(usages[variant]), { count: jobsPerRound * rounds, unit: 'job' });
  const how = `median of ${rounds} drains of ${jobsPerRound.toLocaleString('en-US')} pre-filled jobs, concurrency ${concurrency}`;
  return [
    {
      section,
      name: 'raw BullMQ Worker, no-op',
      value: raw,
      unit: 'jobs/s',
      note: how,
      limit: limit('bullmq'),
    },
    {
      section,
      name: 'agentry worker runtime, no-op',
      value: agentry,
      unit: 'jobs/s',
      note: how,
      limit: limit('agentry'),
    },
    {
      section,
      name: 'runtime / raw',
      value: median(ratios),
      unit: '×',
      target: { min: 0.9 },
      note: `median of per-round ratios ${ratios.map((r) => r.toFixed(2)).join(', ')}`,
    },
  ];
}
