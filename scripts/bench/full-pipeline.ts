import { mapLimit, waitFor } from './bench-env';
import { openPipelines, stepsPerRun, type Pipeline } from './pipelines';
import { combineUsage, limitOf, startResourceSampler, type ResourceUsage } from './resources';
import { roundTrips, roundTripsSince } from './round-trips';
import { median, type Figure } from './stats';

const section = 'full pipeline, 3-step runs';
const runsPerRound = 400;
const warmupRuns = 50;
const rounds = 6;
/** Submissions in flight at once (a producer with a small connection pool). */
const submitters = 16;
const roundTimeoutMs = 60_000;

/** Runs/s of each side measured here, for the latency section's "share of capacity". */
export const measuredCapacity: Partial<Record<Pipeline['name'], number>> = {};

interface Round {
  runsPerS: number;
  usage: ResourceUsage;
  statements: number;
  redisCommands: number;
  redisWrites: number;
}

/**
 * Closed batch: start the workers, submit `runs` runs (16 submissions in flight), wait until all
 * succeeded; runs/s = runs / (last finished_at − first submit). Submission is inside the window
 * for both pipelines (it is where the reference writes its plan). Counts this process's SQL
 * statements and Redis commands over the window, the pollers' own statements taken out.
 */
async function timeRound(pipeline: Pipeline, runs: number): Promise<Round> {
  await pipeline.start();
  try {
    const sampler = await startResourceSampler();
    const before = roundTrips();
    let polls = 0;
    const startedAt = Date.now();
    const ids = await mapLimit(
      Array.from({ length: runs }, (_, i) => i),
      submitters,
      () => pipeline.submit(),
    );
    await waitFor(
      `${pipeline.name}: ${runs} runs succeeded`,
      async () => {
        polls += 1;
        return (await pipeline.countSucceeded(ids)) === runs ? true : undefined;
      },
      { timeoutMs: roundTimeoutMs, intervalMs: 50 },
    );
    const trips = roundTripsSince(before);
    const usage = await sampler.stop();
    const finished = [...(await pipeline.finishedAt(ids)).values()];
    return {
      runsPerS: runs / ((Math.max(...finished) - startedAt) / 1_000),
      usage,
      statements: (trips.statements - polls) / runs,
      redisCommands: trips.redisCommands / runs,
      redisWrites: trips.redisWrites / runs,
    };
  } finally {
    await pipeline.stop();
  }
}

/**
 * `echo 3 steps` through agentry's real planner and executor (in process, logs at info to a
 * file, metrics on) vs the naive raw BullMQ + pg reference, in alternating rounds.
 */
export async function benchFullPipeline(): Promise<Figure[]> {
  const pipelines = await openPipelines('e2e');
  try {
    const { agentry, reference } = pipelines;
    await timeRound(agentry, warmupRuns);
    await timeRound(reference, warmupRuns);
    const results: Record<Pipeline['name'], Round[]> = { agentry: [], reference: [] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [reference, agentry] : [agentry, reference];
      for (const p of order) {
        const r = await timeRound(p, runsPerRound);
        results[p.name].push(r);
        console.log(
          `  round ${round + 1} ${p.name.padEnd(9)} ${r.runsPerS.toFixed(1)} runs/s; per run ${r.statements.toFixed(2)} SQL statements, ${r.redisCommands.toFixed(2)} Redis commands (${r.redisWrites.toFixed(2)} writes); machine ${r.usage.cores.machine.toFixed(2)} cores busy`,
        );
      }
    }
    const rate = (name: Pipeline['name']) => median(results[name].map((r) => r.runsPerS));
    const ratios = results.agentry.map(
      (a, i) => a.runsPerS / (results.reference[i]?.runsPerS ?? Number.NaN),
    );
    measuredCapacity.agentry = rate('agentry');
    measuredCapacity.reference = rate('reference');
    const how = `median of ${rounds} batches of ${runsPerRound} runs, ${submitters} submitters`;
    const limit = (name: Pipeline['name']) =>
      limitOf(combineUsage(results[name].map((r) => r.usage)), {
        count: runsPerRound * rounds,
        unit: 'run',
      });
    const trips = (name: Pipeline['name']) => {
      const rs = results[name];
      return {
        statements: median(rs.map((r) => r.statements)),
        commands: median(rs.map((r) => r.redisCommands)),
        writes: median(rs.map((r) => r.redisWrites)),
      };
    };
    const a = trips('agentry');
    const r = trips('reference');
    return [
      {
        section,
        name: 'agentry (planner + executor in process)',
        value: rate('agentry'),
        unit: 'runs/s',
        note: `${how}; planner concurrency 8, executor 16, one pool of 10; logs at info to a file, metrics on`,
        limit: limit('agentry'),
      },
      {
        section,
        name: 'agentry steps/s',
        value: rate('agentry') * stepsPerRun,
        unit: 'steps/s',
        note: `${stepsPerRun} steps per run`,
      },
      {
        section,
        name: 'naive reference (raw BullMQ + pg)',
        value: rate('reference'),
        unit: 'runs/s',
        note: `${how}; worker concurrency 16, pool of 10; no logs, no metrics`,
        limit: limit('reference'),
      },
      {
        section,
        name: 'reference steps/s',
        value: rate('reference') * stepsPerRun,
        unit: 'steps/s',
        note: `${stepsPerRun} steps per run`,
      },
      {
        section,
        name: 'agentry / reference (runs/s and steps/s)',
        value: median(ratios),
        unit: '×',
        target: { min: 1.5 },
        note: `median of per-round ratios ${ratios.map((x) => x.toFixed(2)).join(', ')}`,
      },
      {
        section,
        name: 'agentry round trips per run',
        value: a.statements + a.writes,
        unit: 'round trips',
        note: `${a.statements.toFixed(2)} SQL statements + ${a.writes.toFixed(2)} Redis writes (${a.commands.toFixed(2)} commands); median of the rounds, counted in the drivers`,
      },
      {
        section,
        name: 'reference round trips per run',
        value: r.statements + r.writes,
        unit: 'round trips',
        note: `${r.statements.toFixed(2)} SQL statements + ${r.writes.toFixed(2)} Redis writes (${r.commands.toFixed(2)} commands)`,
      },
    ];
  } finally {
    await pipelines.close();
  }
}
