import { sql, type Kysely } from 'kysely';
import type { DB } from './db';

/** The median duration of a tool's successful attempts and how many there were. */
export interface ToolDuration {
  p50Ms: number;
  samples: number;
}

/**
 * Per tool, the median duration of successful attempts that finished since `since` (at most the
 * latest `perTool` of each, so a busy fleet reads a bounded sample).
 */
export async function toolDurations(
  db: Kysely<DB>,
  since: Date,
  perTool = 500,
): Promise<Map<string, ToolDuration>> {
  const { rows } = await sql<{ tool: string; p50: number | string; samples: number | string }>`
    select tool, percentile_cont(0.5) within group (order by duration_ms) as p50,
      count(*) as samples
    from (
      select s.tool, a.duration_ms,
        row_number() over (partition by s.tool order by a.finished_at desc) as n
      from step_attempts a
      join steps s on s.run_id = a.run_id and s.step_id = a.step_id
      where a.outcome = 'succeeded' and a.finished_at >= ${since} and a.duration_ms is not null
    ) recent
    where n <= ${perTool}
    group by tool`.execute(db);
  return new Map(rows.map((r) => [r.tool, { p50Ms: Number(r.p50), samples: Number(r.samples) }]));
}
