import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** Ports a chaos scenario may give its private redis-server (other helpers use others). */
export const privateRedisPorts = [6390, 6391, 6392, 6393, 6394] as const;

export interface PrivateRedisOptions {
  /** Ports to try, first free one wins. @default {@link privateRedisPorts} */
  ports?: readonly number[];
  /**
   * `appendonly yes` (fsync every second): a restart keeps what was written. Off by default —
   * no persistence at all, so a restart loses every key, which is what a scenario tests.
   */
  appendOnly?: boolean;
  /** Time to wait for PING after a start. @default 15000 */
  readyWithinMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A redis-server of the test's own on 127.0.0.1 (never the shared one), that the test can stop,
 * start again on the same port, and fill. Without persistence (`--save "" --appendonly no`) a
 * restart comes back empty. `close()` kills it and removes its directory; safe to call twice,
 * and the process is also killed if the test process exits first.
 */
export class PrivateRedis {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #output = '';
  #closed = false;
  /** How many times redis-server was started (1 after `create`). */
  starts = 0;
  private readonly killOnExit = () => this.#child?.kill('SIGKILL');

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: PrivateRedisOptions,
  ) {
    process.once('exit', this.killOnExit);
  }

  /** Start a private redis-server on the first free port of `options.ports`. */
  static async create(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const dir = await mkdtemp(join(tmpdir(), 'agentry-chaos-redis-'));
    const problems: string[] = [];
    for (const port of options.ports ?? privateRedisPorts) {
      const redis = new PrivateRedis(port, dir, options);
      try {
        await redis.start();
        return redis;
      } catch (e) {
        problems.push(`${port}: ${String(e)}`);
        await redis.close({ keepDir: true });
      }
    }
    await rm(dir, { recursive: true, force: true });
    throw new Error(`no private redis-server could start:\n${problems.join('\n')}`);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** True while redis-server runs. */
  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && !this.#child.signalCode;
  }

  /** Start redis-server (again, on the same port); resolves once it answers PING. */
  async start(): Promise<void> {
    if (this.#closed) throw new Error('private redis is closed');
    if (this.running) return;
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      this.options.appendOnly ? 'yes' : 'no',
      '--appendfsync',
      'everysec',
      '--dir',
      this.dir,
      '--maxmemory-policy',
      'noeviction',
      '--daemonize',
      'no',
      '--logfile',
      '',
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.starts += 1;
    this.#output = '';
    const keep = (chunk: Buffer) => (this.#output = (this.#output + chunk.toString()).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let spawnError: Error | undefined;
    this.#exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', (e) => {
        spawnError = e; // not started at all (no redis-server on the PATH): no 'exit' follows
        resolve();
      });
    });
    const deadline = Date.now() + (this.options.readyWithinMs ?? 15_000);
    for (;;) {
      if (spawnError !== undefined || !this.running) {
        throw new Error(
          `redis-server on ${this.port} exited: ${String(spawnError ?? '')}${this.#output.slice(-1000)}`,
        );
      }
      // PING alone could be answered by another server already on the port (ours then fails to
      // bind and exits): it must be our process that answers.
      if (await this.answersAsOurs(child.pid)) return;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        await this.#exited;
        throw new Error(`redis-server on ${this.port} did not answer PING: ${this.#output}`);
      }
      await sleep(50);
    }
  }

  /**
   * Stop redis-server: `SHUTDOWN NOSAVE` (nothing written, so without AOF the data is gone), then
   * SIGKILL if it is still up after `graceMs`. Resolves once the process has exited.
   */
  async stop(graceMs = 5_000): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.running) return;
    await this.command('SHUTDOWN', 'NOSAVE').catch(() => undefined); // the connection drops
    if (this.running) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /** `stop()`, then `start()` on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /**
   * One command on a fresh connection (connect and answer within `timeoutMs`, no retry). Rejects
   * with Redis's error, e.g. OOM for a write above `maxmemory`.
   */
  async command(name: string, ...args: Array<string | number | Buffer>): Promise<unknown> {
    const client = new Redis(this.port, '127.0.0.1', {
      lazyConnect: true,
      connectTimeout: 2_000,
      commandTimeout: 5_000,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await client.call(name, ...args);
    } finally {
      client.disconnect();
    }
  }

  /** True when redis-server answers PING now. */
  async ping(): Promise<boolean> {
    return this.command('PING').then(
      (r) => r === 'PONG',
      () => false,
    );
  }

  /** True when the server on the port answers and is the process `pid`. */
  private async answersAsOurs(pid: number | undefined): Promise<boolean> {
    return this.command('INFO', 'server').then(
      (info) => new RegExp(`^process_id:${String(pid)}\\r?$`, 'm').test(String(info)),
      () => false,
    );
  }

  /** `INFO <section>` as a field → value map. */
  async info(section: string): Promise<Record<string, string>> {
    const text = String(await this.command('INFO', section));
    return Object.fromEntries(
      text
        .split(/\r?\n/)
        .filter((l) => l.includes(':') && !l.startsWith('#'))
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
    );
  }

  /**
   * A {@link MemoryFiller} on this server: keys written until Redis reaches a share of its
   * `maxmemory` (set it first, e.g. `CONFIG SET maxmemory …`).
   */
  filler(prefix = 'chaos:filler'): MemoryFiller {
    return new MemoryFiller(this.port, prefix);
  }

  /** Kill redis-server and remove its directory. Safe to call twice; never throws. */
  async close(options: { keepDir?: boolean } = {}): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#child?.kill('SIGKILL');
      await this.#exited;
      process.off('exit', this.killOnExit);
    }
    if (!options.keepDir) await rm(this.dir, { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * Fills a Redis up to a share (below 1) of its `maxmemory` with keys (`<prefix>:<n>`, half the
 * way to the target per write; one key grown by APPEND would overshoot, a string grows its
 * allocation ahead of need), and keeps it there — topping up every 100 ms what the workload
 * frees — until `lowerTo` or `free`. Redis refuses a write whose argument would take it over
 * `maxmemory` (the query buffer counts), so writes alone cannot take it over its limit: to make
 * it refuse every write, lower `maxmemory` under what is used.
 */
export class MemoryFiller {
  #client: Redis;
  #target = 0;
  #keys = 0;
  #holding: Promise<void> | undefined;
  #stopped = false;

  constructor(
    port: number,
    private readonly prefix: string,
  ) {
    this.#client = new Redis(port, '127.0.0.1', {
      connectTimeout: 2_000,
      commandTimeout: 5_000,
      maxRetriesPerRequest: 1,
    });
    this.#client.on('error', () => undefined);
  }

  /** `used_memory` / `maxmemory` now (0 without a limit). */
  async usage(): Promise<{ usedBytes: number; maxBytes: number; ratio: number }> {
    const info = await this.#client.info('memory');
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    const usedBytes = field('used_memory');
    const maxBytes = field('maxmemory');
    return { usedBytes, maxBytes, ratio: maxBytes > 0 ? usedBytes / maxBytes : 0 };
  }

  /**
   * Write until `used_memory` reaches `ratio` (< 1) × `maxmemory`, within `withinMs`; then keep
   * it there. Resolves with the usage reached.
   */
  async fillTo(ratio: number, withinMs = 15_000): Promise<{ ratio: number; usedBytes: number }> {
    if (!(ratio < 1)) throw new Error('a filler stays under maxmemory: lower maxmemory instead');
    this.#target = ratio;
    const deadline = Date.now() + withinMs;
    while (await this.#topUp()) {
      if (Date.now() > deadline) throw new Error(`redis did not reach ${ratio} of maxmemory`);
    }
    this.#holding ??= this.#hold();
    const { ratio: reached, usedBytes } = await this.usage();
    return { ratio: reached, usedBytes };
  }

  /** One write half the way to the target; false once it is reached (or refused). */
  async #topUp(): Promise<boolean> {
    const { usedBytes, maxBytes } = await this.usage();
    const want = this.#target * maxBytes - usedBytes;
    if (want < 2_048) return false;
    const size = Math.round(Math.min(1_024 * 1_024, want / 2));
    try {
      await this.#client.set(`${this.prefix}:${this.#keys++}`, Buffer.alloc(size, 120));
      return true;
    } catch (e) {
      if (!/^OOM /.test(e instanceof Error ? e.message : '')) throw e;
      return false;
    }
  }

  async #hold(): Promise<void> {
    while (!this.#stopped) {
      await new Promise((r) => setTimeout(r, 100));
      if (!this.#stopped) await this.#topUp().catch(() => false);
    }
  }

  /**
   * Delete keys (newest first) until `used_memory` is at most `ratio` × `maxmemory`, write back
   * up to it what a large key took too much, and hold there. Resolves with the usage reached.
   */
  async lowerTo(ratio: number): Promise<{ ratio: number }> {
    this.#target = ratio;
    while (this.#keys > 0 && (await this.usage()).ratio > ratio) {
      this.#keys -= 1;
      await this.#client.del(`${this.prefix}:${this.#keys}`);
    }
    while (await this.#topUp());
    return { ratio: (await this.usage()).ratio };
  }

  /** Stop holding, delete the keys; resolves with the usage after. */
  async free(): Promise<{ ratio: number }> {
    this.#stopped = true;
    await this.#holding;
    const keys = Array.from({ length: this.#keys }, (_, i) => `${this.prefix}:${i}`);
    for (let i = 0; i < keys.length; i += 500) await this.#client.del(...keys.slice(i, i + 500));
    return { ratio: (await this.usage()).ratio };
  }

  /** Disconnect (the keys stay). Safe to call twice. */
  close(): void {
    this.#stopped = true;
    this.#client.disconnect();
  }
}
