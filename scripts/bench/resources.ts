import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { createPgPool, redisUrl } from './bench-env';

/**
 * Where the CPU went during a measured window: this (bench) process, its child processes, the
 * Postgres backends serving any of them, redis-server, and the whole machine. All from /proc
 * (utime + stime), so it needs Linux and the servers on this host. Redis is one process shared
 * with whatever else uses it; the Postgres backends are exactly ours (found by the client ports of
 * our processes' connections to 5432 in `pg_stat_activity`).
 */
export interface ResourceUsage {
  wallS: number;
  /** CPU seconds per second of wall time (1 = one core busy). */
  cores: {
    bench: number;
    children: number;
    postgres: number;
    redis: number;
    /** Every process on the machine, the other tenants of a shared box included. */
    machine: number;
  };
  /** Event-loop utilisation of the bench process (0–1): 1 means its JS thread never waited. */
  benchElu: number;
  /** Postgres backends serving our processes. */
  postgresBackends: number;
}

const ticksPerSecond = 100; // USER_HZ on Linux

/** The sampler's own connection, which the round-trip counter leaves out. */
export const samplerApplicationName = 'agentry-bench-sampler';

function cpuTicksOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): state is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15)
  } catch {
    return Number.NaN; // the process is gone
  }
}

function machineBusyTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Local ports of `pid`'s TCP connections to `remotePort` (from /proc/<pid>/fd and /proc/net/tcp). */
export function localPortsTo(pid: number, remotePort: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m?.[1]) inodes.add(m[1]);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return [];
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    const remote = `:${remotePort.toString(16).toUpperCase().padStart(4, '0')} `;
    for (const line of text.split('\n')) {
      if (!line.includes(remote)) continue;
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const local = Number.parseInt(f[1]?.split(':')[1] ?? '', 16);
      const rem = Number.parseInt(f[2]?.split(':')[1] ?? '', 16);
      if (rem === remotePort && inodes.has(f[9] ?? '')) ports.push(local);
    }
  }
  return ports;
}

/** Start sampling; `stop()` returns the usage over the window. */
export async function startResourceSampler(
  options: { childPids?: () => readonly number[] } = {},
): Promise<{ stop(): Promise<ResourceUsage> }> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  redis.disconnect();
  const pool = createPgPool('public', 1, samplerApplicationName);
  const ourPids = () => [process.pid, ...(options.childPids?.() ?? [])];

  // Backends come and go (pools open connections on demand): track each one's first and last
  // reading, polled every 2 s (reading /proc/net/tcp of a busy box is not free).
  const backends = new Map<number, { first: number; last: number }>();
  const pollBackends = async () => {
    const ports = ourPids().flatMap((pid) => localPortsTo(pid, 5432));
    if (ports.length === 0) return;
    const { rows } = await pool.query(
      `select pid from pg_stat_activity where client_port = any($1::int[]) and pid <> pg_backend_pid()`,
      [ports],
    );
    for (const r of rows) {
      const pid = Number(r.pid);
      const ticks = cpuTicksOf(pid);
      if (!Number.isFinite(ticks)) continue;
      const seen = backends.get(pid);
      if (seen) seen.last = ticks;
      else backends.set(pid, { first: ticks, last: ticks });
    }
  };
  const children = new Map<number, { first: number; last: number }>();
  const pollChildren = () => {
    for (const pid of options.childPids?.() ?? []) {
      const ticks = cpuTicksOf(pid);
      if (!Number.isFinite(ticks)) continue;
      const seen = children.get(pid);
      if (seen) seen.last = ticks;
      else children.set(pid, { first: ticks, last: ticks });
    }
  };

  await pollBackends();
  pollChildren();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const elu0: EventLoopUtilization = performance.eventLoopUtilization();
  const redis0 = cpuTicksOf(redisPid);
  const machine0 = machineBusyTicks();
  let polling = true;
  let wake: () => void = () => undefined;
  const poller = (async () => {
    while (polling) {
      await new Promise<void>((r) => {
        const timer = setTimeout(r, 2_000);
        wake = () => {
          clearTimeout(timer);
          r();
        };
      });
      if (!polling) return;
      pollChildren();
      await pollBackends().catch(() => undefined);
    }
  })();

  return {
    async stop() {
      pollChildren();
      await pollBackends().catch(() => undefined);
      const wallS = (performance.now() - t0) / 1_000;
      const cpu = process.cpuUsage(cpu0);
      const elu = performance.eventLoopUtilization(elu0);
      const machine1 = machineBusyTicks();
      const redisTicks = cpuTicksOf(redisPid) - redis0;
      polling = false;
      wake();
      await poller;
      await pool.end();
      const sum = (m: Map<number, { first: number; last: number }>) =>
        [...m.values()].reduce((a, b) => a + (b.last - b.first), 0) / ticksPerSecond;
      const machineCores =
        ((machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total)) *
        cpus().length;
      return {
        wallS,
        cores: {
          bench: (cpu.user + cpu.system) / 1e6 / wallS,
          children: sum(children) / wallS,
          postgres: sum(backends) / wallS,
          redis: redisTicks / ticksPerSecond / wallS,
          machine: machineCores,
        },
        benchElu: elu.utilization,
        postgresBackends: backends.size,
      };
    },
  };
}

/** The usage of several windows as one (CPU shares weighted by each window's length). */
export function combineUsage(usages: readonly ResourceUsage[]): ResourceUsage {
  const wallS = usages.reduce((a, u) => a + u.wallS, 0);
  const share = (pick: (u: ResourceUsage) => number) =>
    usages.reduce((a, u) => a + pick(u) * u.wallS, 0) / Math.max(wallS, 1e-9);
  return {
    wallS,
    cores: {
      bench: share((u) => u.cores.bench),
      children: share((u) => u.cores.children),
      postgres: share((u) => u.cores.postgres),
      redis: share((u) => u.cores.redis),
      machine: share((u) => u.cores.machine),
    },
    benchElu: share((u) => u.benchElu),
    postgresBackends: Math.max(0, ...usages.map((u) => u.postgresBackends)),
  };
}

const machineCores = cpus().length;

/**
 * What limits a throughput figure, from where the CPU went: the saturated resource first (the
 * machine's cores, or one Node event loop), then CPU time per unit of work of each process, so
 * the cost of each side shows even on a shared box. `node` names the Node process(es) measured
 * (`bench process` runs the pipeline in process; `executors` are child processes).
 */
export function limitOf(
  u: ResourceUsage,
  work: { count: number; unit: string },
  node: 'bench process' | 'executors' = 'bench process',
): string {
  const ours = u.cores.bench + u.cores.children + u.cores.postgres + u.cores.redis;
  const others = Math.max(0, u.cores.machine - ours);
  const perUnit = (cores: number) =>
    ((cores * u.wallS * 1_000) / Math.max(work.count, 1)).toFixed(2);
  const nodeCores = node === 'executors' ? u.cores.children : u.cores.bench;
  const cost =
    `CPU ms per ${work.unit}: Node ${perUnit(nodeCores)}, Postgres ${perUnit(u.cores.postgres)}, ` +
    `Redis ${perUnit(u.cores.redis)}`;
  const busy =
    `(cores busy: Node ${nodeCores.toFixed(2)}${node === 'bench process' ? `, ELU ${u.benchElu.toFixed(2)}` : ''}, ` +
    `Postgres ${u.cores.postgres.toFixed(2)}, Redis ${u.cores.redis.toFixed(2)}, ` +
    `other processes ${others.toFixed(2)}; machine ${u.cores.machine.toFixed(2)} of ${machineCores})`;
  let what: string;
  if (u.cores.machine >= 0.9 * machineCores)
    what = `CPU: the ${machineCores} cores are saturated, ${nodeCores >= u.cores.postgres ? 'Node' : 'Postgres'} taking the most`;
  else if (node === 'bench process' && u.benchElu >= 0.9)
    what = 'Node: the event loop is busy ≥ 90 % of the time';
  else what = 'waiting on round trips (no core and no event loop saturated)';
  return `${what}; ${cost} ${busy}`;
}
