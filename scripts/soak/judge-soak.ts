import type { InvariantReport } from '../../tests/chaos/support/invariants';
import { lostRuns } from './criteria/lost-runs';
import { redisBounded } from './criteria/redis-bounded';
import { rowsAsExpected } from './criteria/rows-as-expected';
import { rssFlat } from './criteria/rss-flat';
import type { LogTally } from './log-files';
import type { Arrivals } from './open-loop-arrivals';
import type { SoakOptions } from './soak-options';
import type { RssTrace } from './rss-trace';
import type { Sample } from './take-sample';

/** One pass/fail line of the soak, with what it is based on. */
export interface Criterion {
  name: string;
  pass: boolean;
  /** False when the run was too short to judge it (it then only fails on a hard fault). */
  judged: boolean;
  detail: string;
}

/** The retention policy's caps, read from the product (not assumed). */
export interface RetentionCaps {
  /** `removeOnComplete.count` of agentry's jobs (`completedRetention`). */
  completed: number;
  /** Each queue's event stream cap (`opts.maxLenEvents` in its meta hash). */
  events: Record<string, number>;
}

export interface SoakEvidence {
  options: SoakOptions;
  samples: readonly Sample[];
  rss: RssTrace;
  arrivals: Arrivals;
  /** Absent when the soak was interrupted before the checks. */
  invariants: InvariantReport | undefined;
  logs: LogTally;
  caps: RetentionCaps;
  /** Labels of processes that exited before the end. */
  exited: readonly string[];
  interrupted: boolean;
}

/** The four criteria of issue 8's soak. Pure. */
export function judgeSoak(e: SoakEvidence): Criterion[] {
  return [lostRuns(e), rssFlat(e), redisBounded(e), rowsAsExpected(e)];
}
