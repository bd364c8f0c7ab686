import { openAgentryFleet } from './agentry-fleet';
import { mapLimit, waitFor } from './bench-env';
import { openReferencePipeline } from './reference-pipeline';
import { median, type Figure } from './stats';

const section = 'end-to-end runs/s';
const runsPerRound = 300;
const warmupRuns = 50;
const rounds = 3;
/** Submissions in flight at once (a producer with a small connection pool). */
const submitters = 16;
const roundTimeoutMs = 60_000;

/** What one pipeline must offer to be timed: submit a 3-step run, see it done. */
interface Pipeline {
  start(): Promise<void>;
  stop(): Promise<void>;
  submit(): Promise<string>;
  countSucceeded(ids: readonly string[]): Promise<number>;
  finishedAt(ids: readonly string[]): Promise<Map<string, number>>;
}

/**
 * Closed batch: start the workers, submit `runs` runs (16 submissions in flight), wait until all
 * succeeded; runs/s = runs / (last finished_at − first submit). Submission is inside the window
 * for both pipelines, since it is where the reference writes its plan.
 */
async function timeRound(name: string, pipeline: Pipeline, runs: number): Promise<number> {
  await pipeline.start();
  try {
    const startedAt = Date.now();
    const ids = await mapLimit(
      Array.from({ length: runs }, (_, i) => i),
      submitters,
      () => pipeline.submit(),
    );
    await waitFor(
      `${name}: ${runs} runs succeeded`,
      async () => ((await pipeline.countSucceeded(ids)) === runs ? true : undefined),
      { timeoutMs: roundTimeoutMs, intervalMs: 50 },
    );
    const finished = [...(await pipeline.finishedAt(ids)).values()];
    return runs / ((Math.max(...finished) - startedAt) / 1_000);
  } finally {
    await pipeline.stop();
  }
}

/**
 * `echo 3 steps` through the real planner and executor (in process, shared FleetServices, one
 * Postgres test schema) vs the naive raw BullMQ + pg reference, alternating rounds.
 */
export async function benchEndToEnd(): Promise<Figure[]> {
  const fleet = await openAgentryFleet('e2e');
  try {
    const executorConcurrency = 16;
    const reference = await openReferencePipeline({
      schema: fleet.database.schema,
      concurrency: executorConcurrency,
      poolMax: 10,
    });
    try {
      let workers: { close(): Promise<void> } | undefined;
      const agentry: Pipeline = {
        start: async () => {
          workers = await fleet.startWorkers({ planner: true, executor: true });
        },
        stop: async () => {
          await workers?.close();
          workers = undefined;
        },
        submit: () => fleet.submit('echo 3 steps'),
        countSucceeded: (ids) => fleet.countRuns(ids, 'succeeded'),
        finishedAt: (ids) => fleet.finishedAt(ids),
      };
      const pipelines = { agentry, reference } as const;
      type Name = keyof typeof pipelines;
      await timeRound('agentry', agentry, warmupRuns);
      await timeRound('reference', reference, warmupRuns);
      const rates: Record<Name, number[]> = { agentry: [], reference: [] };
      for (let round = 0; round < rounds; round++) {
        const order: Name[] = round % 2 === 0 ? ['reference', 'agentry'] : ['agentry', 'reference'];
        for (const name of order) {
          const rate = await timeRound(name, pipelines[name], runsPerRound);
          rates[name].push(rate);
          console.log(`  round ${round + 1} ${name.padEnd(9)} ${rate.toFixed(1)} runs/s`);
        }
      }
      const ratios = rates.agentry.map((a, i) => a / (rates.reference[i] ?? Number.NaN));
      const how = `median of ${rounds} batches of ${runsPerRound} runs, ${submitters} submitters`;
      return [
        {
          section,
          name: 'agentry planner + executor, 3-step plan',
          value: median(rates.agentry),
          unit: 'runs/s',
          note: `${how}; planner concurrency 8, executor 16, one pool of 10`,
        },
        {
          section,
          name: 'naive reference (raw BullMQ + pg)',
          value: median(rates.reference),
          unit: 'runs/s',
          note: `${how}; worker concurrency ${executorConcurrency}, pool of 10`,
        },
        {
          section,
          name: 'agentry / reference',
          value: median(ratios),
          unit: '×',
          target: { min: 1 },
          note: `median of per-round ratios ${ratios.map((r) => r.toFixed(2)).join(', ')}`,
        },
      ];
    } finally {
      await reference.close();
    }
  } finally {
    await fleet.close();
  }
}
