import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAgentryFleet, type AgentryFleet } from './agentry-fleet';
import { openReferencePipeline } from './reference-pipeline';

/** What one pipeline must offer to be timed: submit a 3-step run, see it done. */
export interface Pipeline {
  name: 'agentry' | 'reference';
  /** Start its workers. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Submit one 3-step run; returns its id. */
  submit(): Promise<string>;
  countSucceeded(ids: readonly string[]): Promise<number>;
  /** Finish instants (ms since epoch) of the finished runs among `ids`. */
  finishedAt(ids: readonly string[]): Promise<Map<string, number>>;
}

export const stepsPerRun = 3;
export const executorConcurrency = 16;
export const plannerConcurrency = 8;

/**
 * agentry's full pipeline (the real planner and executor in this process, on one
 * `FleetServices`: one pool of 10, logs at `info` to a file, metrics recorded in the registry) and
 * the naive reference (raw BullMQ + pg, worker concurrency 16, pool of 10), on one Postgres schema.
 */
export async function openPipelines(tag: string): Promise<{
  fleet: AgentryFleet;
  agentry: Pipeline;
  reference: Pipeline;
  close(): Promise<void>;
}> {
  const logFile = join(tmpdir(), `agentry-bench-${tag}-${process.pid}.log`);
  const fleet = await openAgentryFleet(tag, { logFile });
  try {
    const ref = await openReferencePipeline({
      schema: fleet.database.schema,
      concurrency: executorConcurrency,
      poolMax: 10,
    });
    let workers: { close(): Promise<void> } | undefined;
    const agentry: Pipeline = {
      name: 'agentry',
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
    const reference: Pipeline = {
      name: 'reference',
      start: () => ref.start(),
      stop: () => ref.stop(),
      submit: () => ref.submit(),
      countSucceeded: (ids) => ref.countSucceeded(ids),
      finishedAt: (ids) => ref.finishedAt(ids),
    };
    return {
      fleet,
      agentry,
      reference,
      close: async () => {
        try {
          await agentry.stop();
          await ref.close();
        } finally {
          await fleet.close();
        }
      },
    };
  } catch (e) {
    await fleet.close();
    throw e;
  }
}
