import type { FleetProcess } from '../../support/fleet-process';
import type { ChaosFleet } from './chaos-fleet';

/** `/readyz` answers over time, from {@link watchReadiness}. */
export interface ReadinessLog {
  /** Each probe: when it was sent and its status (0: no answer). */
  probes: Array<{ at: number; status: number }>;
  /** Probes sent in [from, to] that answered 503. */
  notReadyBetween(from: number, to: number): number;
  /** Ms from `since` to the first probe sent after it that answered 200; -1 if none did. */
  readyAfter(since: number): number;
}

/**
 * Probe the API's `/readyz` every `everyMs` (one probe at a time, each bounded by the client's
 * timeout) until `stop()`, which answers what was seen.
 */
export function watchReadiness(chaos: ChaosFleet, everyMs = 250): { stop(): ReadinessLog } {
  const probes: ReadinessLog['probes'] = [];
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const at = Date.now();
      const status = await chaos.http('GET', '/readyz').then(
        (r) => r.status,
        () => 0,
      );
      probes.push({ at, status });
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop() {
      stopped = true;
      return {
        probes,
        notReadyBetween: (from, to) =>
          probes.filter((p) => p.at >= from && p.at <= to && p.status === 503).length,
        readyAfter(since) {
          const first = probes.find((p) => p.at >= since && p.status === 200);
          return first === undefined ? -1 : first.at - since;
        },
      };
    },
  };
}

/** How the fleet's processes rode out a Redis fault, read from their logs. */
export interface FleetRecovery {
  /** `redis connection ready again` lines, by app (a connection that came back by itself). */
  reconnects: Record<string, number>;
  reconnectsOf(p: FleetProcess): number;
  /** Processes that exited (a crash loop would show here), as `app pid code/signal`. */
  exits: string[];
  /** Distinct runs named in the planners' `reconciler repaired runs` lines. */
  runsRepaired: number;
  /** Plan jobs and step dispatches the reconcilers reported. */
  planJobsReenqueued: number;
  stepsRedispatched: number;
}

export function fleetRecovery(processes: readonly FleetProcess[]): FleetRecovery {
  const reconnectsOf = (p: FleetProcess) =>
    p.lines.filter((l) => l.msg === 'redis connection ready again').length;
  const reconnects: Record<string, number> = {};
  for (const p of processes) reconnects[p.app] = (reconnects[p.app] ?? 0) + reconnectsOf(p);
  const repairs = processes.flatMap((p) =>
    p.lines.filter((l) => l.msg === 'reconciler repaired runs'),
  );
  const runs = new Set(
    repairs.flatMap((l) => (l.runs as Array<{ runId: string }>).map((r) => r.runId)),
  );
  const sum = (field: string) => repairs.reduce((n, l) => n + Number(l[field] ?? 0), 0);
  return {
    reconnects,
    reconnectsOf,
    exits: processes.filter((p) => !p.running).map((p) => `${p.app} ${String(p.pid)} exited`),
    runsRepaired: runs.size,
    planJobsReenqueued: sum('planJobsEnqueued'),
    stepsRedispatched: sum('stepsDispatched'),
  };
}

/** Warn and error lines the fleet logged (what an operator's log alerts would see), and stderr. */
export function logNoise(processes: readonly FleetProcess[]): {
  warn: number;
  error: number;
  stderrChars: number;
} {
  const lines = processes.flatMap((p) => p.lines);
  return {
    warn: lines.filter((l) => l.level === 'warn').length,
    error: lines.filter((l) => l.level === 'error' || l.level === 'fatal').length,
    stderrChars: processes.reduce((n, p) => n + p.stderr.join('').length, 0),
  };
}

/** Warn and error lines by process and message, and stderr size: what an operator would see. */
export function logDigest(processes: readonly FleetProcess[]): Record<string, unknown> {
  const digest: Record<string, unknown> = {};
  for (const p of processes) {
    const counts: Record<string, number> = {};
    for (const l of p.lines) {
      if (l.level !== 'warn' && l.level !== 'error' && l.level !== 'fatal') continue;
      const key = `${l.level} ${l.msg ?? ''}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    digest[`${p.app}:${String(p.pid)}`] = { ...counts, stderrChars: p.stderr.join('').length };
  }
  return digest;
}

/** Runs accepted and not finished (`pending`, `running`): their jobs are what Redis holds. */
export async function openRunCount(chaos: ChaosFleet): Promise<number> {
  const row = await chaos.fleet.database.db
    .selectFrom('runs')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('state', 'in', ['pending', 'running'])
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
