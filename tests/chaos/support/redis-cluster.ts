import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

/** The ports of the test's Redis Cluster: these only (other suites use other ports). */
export const redisClusterPorts = [7101, 7102, 7103, 7104, 7105, 7106] as const;

/** One line of `CLUSTER NODES`. */
export interface ClusterNode {
  id: string;
  port: number;
  role: 'master' | 'replica';
  /** The master's id, for a replica. */
  masterId: string | undefined;
  /** `fail`, `pfail`, `handshake`… flags other than the role. */
  flags: string[];
  /** Slot ranges served (`0-5460`), for a master. */
  slots: string[];
}

/** What a manual failover did. */
export interface Failover {
  slot: number;
  /** The master that served the slot, and the replica that took it over. */
  from: number;
  to: number;
  /** From `CLUSTER FAILOVER` sent to every node agreeing on the new master of the slot. */
  ms: number;
}

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A Redis Cluster of the test's own on loopback: three masters with one replica each on
 * {@link redisClusterPorts} (or three masters alone, for a cheaper cluster), no persistence, `cluster-node-timeout` 2 s. `failover(key)` promotes
 * the replica of the master that holds `key`'s slot (a manual `CLUSTER FAILOVER`, as an operator
 * does before maintenance). `close()` kills all six and removes their directory, whatever state
 * they are in; they are also killed if the test process exits first.
 */
export class RedisCluster {
  /** The password {@link command} presents, once a test has set one (`CONFIG SET requirepass`). */
  password: string | undefined;
  readonly #children = new Map<number, ChildProcess>();
  readonly #output = new Map<number, string>();
  #closed = false;
  private readonly killOnExit = () => {
    for (const child of this.#children.values()) child.kill('SIGKILL');
  };

  private constructor(
    readonly dir: string,
    readonly ports: readonly number[],
    readonly replicas: 0 | 1,
  ) {
    process.once('exit', this.killOnExit);
  }

  /**
   * Start six redis-servers (three, on the first three ports, with `replicas: 0`), join them with
   * `redis-cli --cluster create`, and resolve once every node reports `cluster_state:ok`, knows
   * all the others, and every replica is in sync with its master.
   */
  static async create(
    options: { readyWithinMs?: number; replicas?: 0 | 1 } = {},
  ): Promise<RedisCluster> {
    const replicas = options.replicas ?? 1;
    const dir = await mkdtemp(join(tmpdir(), 'agentry-chaos-cluster-'));
    const cluster = new RedisCluster(
      dir,
      replicas === 1 ? redisClusterPorts : redisClusterPorts.slice(0, 3),
      replicas,
    );
    try {
      await cluster.#start(options.readyWithinMs ?? 60_000);
      return cluster;
    } catch (e) {
      await cluster.close();
      throw e;
    }
  }

  /** `AGENTRY_REDIS_CLUSTER_NODES` for the fleet: every node as a seed. */
  get seeds(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }

  async #start(readyWithinMs: number): Promise<void> {
    for (const port of this.ports) {
      if (await this.#answers(port)) {
        throw new Error(
          `something already answers on 127.0.0.1:${port}; the cluster needs 7101-7106`,
        );
      }
    }
    for (const port of this.ports) this.#spawn(port);
    const deadline = Date.now() + readyWithinMs;
    for (const port of this.ports) {
      while (!(await this.#answers(port))) {
        const child = this.#children.get(port);
        if (child && (child.exitCode !== null || child.signalCode !== null)) {
          throw new Error(`redis-server ${port} exited: ${this.#output.get(port) ?? ''}`);
        }
        if (Date.now() > deadline) throw new Error(`redis-server ${port} did not answer PING`);
        await sleep(50);
      }
    }
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...this.ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        String(this.replicas),
        '--cluster-yes',
      ],
      { timeout: Math.max(5_000, deadline - Date.now()) },
    );
    await this.#until(deadline, 'the cluster to be ready', async () => {
      for (const port of this.ports) {
        const info = await this.clusterInfo(port);
        if (info.cluster_state !== 'ok' || info.cluster_known_nodes !== String(this.ports.length))
          return false;
      }
      const nodes = await this.nodes();
      const replicas = nodes.filter((n) => n.role === 'replica');
      if (nodes.filter((n) => n.role === 'master').length !== 3) return false;
      if (replicas.length !== 3 * this.replicas) return false;
      for (const r of replicas)
        if ((await this.info(r.port, 'replication')).master_link_status !== 'up') return false;
      return true;
    });
  }

  #spawn(port: number): void {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(this.dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '2000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
        '--maxmemory-policy',
        'noeviction',
        '--daemonize',
        'no',
        '--logfile',
        '',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer) =>
      this.#output.set(port, ((this.#output.get(port) ?? '') + chunk.toString()).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('error', (e) => keep(Buffer.from(String(e))));
    this.#children.set(port, child);
  }

  /**
   * One command to one node on a fresh connection (connect and answer within `timeoutMs`, no
   * retry, no redirect followed). Rejects with the node's error.
   */
  async command(port: number, name: string, ...args: Array<string | number>): Promise<unknown> {
    const client = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      connectTimeout: 2_000,
      commandTimeout: 5_000,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      disableClientInfo: true, // no CLIENT SETINFO (an ERR on Redis 7.0) in the servers' stats
      ...(this.password === undefined ? {} : { password: this.password }),
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await client.call(name, ...args);
    } finally {
      client.disconnect();
    }
  }

  /** `INFO <section>` of one node as a field → value map. */
  async info(port: number, section: string): Promise<Record<string, string>> {
    return fields(String(await this.command(port, 'INFO', section)));
  }

  /** `CLUSTER INFO` of one node as a field → value map. */
  async clusterInfo(port: number): Promise<Record<string, string>> {
    return fields(String(await this.command(port, 'CLUSTER', 'INFO')));
  }

  /** `ROLE` of one node: `master` or `slave`. */
  async role(port: number): Promise<string> {
    const reply = (await this.command(port, 'ROLE')) as unknown[];
    return String(reply[0]);
  }

  /** `CLUSTER NODES` as one node (by default the first that answers) sees the cluster. */
  async nodes(port?: number): Promise<ClusterNode[]> {
    const ask = port === undefined ? this.ports : [port];
    let last: unknown;
    for (const p of ask) {
      try {
        return parseClusterNodes(String(await this.command(p, 'CLUSTER', 'NODES')));
      } catch (e) {
        last = e;
      }
    }
    throw new Error(`no node answered CLUSTER NODES: ${String(last)}`);
  }

  /** The hash slot of `key` (`CLUSTER KEYSLOT`). */
  async slotOf(key: string): Promise<number> {
    return Number(await this.command(this.ports[0] as number, 'CLUSTER', 'KEYSLOT', key));
  }

  /** The port of the master serving `slot`, as `port`'s node (default: the first) sees it. */
  async masterOf(slot: number, port?: number): Promise<number> {
    const nodes = await this.nodes(port);
    const master = nodes.find((n) => n.role === 'master' && n.slots.some((r) => inRange(r, slot)));
    if (master === undefined) throw new Error(`no master serves slot ${slot}`);
    return master.port;
  }

  /**
   * A manual failover of the master holding `key`'s slot: `CLUSTER FAILOVER` on its replica,
   * then wait (at most `withinMs`) until the replica answers `ROLE` master and every node names it
   * the master of the slot (`ms`), then until the old master is its replica in sync, every node
   * sees them so and says `cluster_state:ok`.
   */
  async failover(key: string, withinMs = 30_000): Promise<Failover> {
    const slot = await this.slotOf(key);
    const from = await this.masterOf(slot);
    const nodes = await this.nodes();
    const masterId = nodes.find((n) => n.port === from)?.id;
    const replica = nodes.find((n) => n.role === 'replica' && n.masterId === masterId);
    if (replica === undefined) throw new Error(`master ${from} has no replica`);
    const startedAt = Date.now();
    const reply = await this.command(replica.port, 'CLUSTER', 'FAILOVER');
    if (reply !== 'OK') throw new Error(`CLUSTER FAILOVER on ${replica.port}: ${String(reply)}`);
    const deadline = startedAt + withinMs;
    await this.#until(deadline, `replica ${replica.port} to take over slot ${slot}`, async () => {
      if ((await this.role(replica.port)) !== 'master') return false;
      for (const port of this.ports)
        if ((await this.masterOf(slot, port)) !== replica.port) return false;
      return true;
    });
    const ms = Date.now() - startedAt;
    await this.#until(deadline, `the cluster to settle after the failover`, async () => {
      if ((await this.role(from)) !== 'slave') return false;
      if ((await this.info(from, 'replication')).master_link_status !== 'up') return false;
      for (const port of this.ports) {
        if ((await this.clusterInfo(port)).cluster_state !== 'ok') return false;
        const seen = await this.nodes(port);
        const to = seen.find((n) => n.port === replica.port);
        const old = seen.find((n) => n.port === from);
        if (to?.role !== 'master' || old?.role !== 'replica' || old.masterId !== to.id)
          return false;
      }
      return true;
    });
    return { slot, from, to: replica.port, ms };
  }

  async #answers(port: number): Promise<boolean> {
    return this.command(port, 'PING').then(
      (r) => r === 'PONG',
      () => false,
    );
  }

  async #until(deadline: number, what: string, check: () => Promise<boolean>): Promise<void> {
    let last: unknown;
    for (;;) {
      try {
        if (await check()) return;
      } catch (e) {
        last = e; // a node busy failing over may refuse a connection or two
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
      }
      await sleep(100);
    }
  }

  /** Kill every node and remove the directory. Safe to call twice; never throws. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(
      [...this.#children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    process.off('exit', this.killOnExit);
    await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** `field:value` lines (INFO, CLUSTER INFO) as a map. */
function fields(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split(/\r?\n/)
      .filter((l) => l.includes(':') && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
  );
}

/** `0-5460` or `5461` contains `slot`; importing/migrating markers (`[…]`) do not. */
function inRange(range: string, slot: number): boolean {
  if (range.startsWith('[')) return false;
  const [low, high = low] = range.split('-').map(Number);
  return low !== undefined && high !== undefined && slot >= low && slot <= high;
}

/** Parse `CLUSTER NODES`: `<id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot>…`. */
export function parseClusterNodes(text: string): ClusterNode[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [id = '', address = '', flags = '', master = '-', , , , , ...slots] = line.split(' ');
      const all = flags.split(',');
      return {
        id,
        port: Number(address.split('@')[0]?.split(':').pop()),
        role: all.includes('master') ? ('master' as const) : ('replica' as const),
        masterId: master === '-' ? undefined : master,
        flags: all.filter((f) => f !== 'master' && f !== 'slave' && f !== 'myself'),
        slots,
      };
    });
}
