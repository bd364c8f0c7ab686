import { execFile, execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { chmod, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Ports a chaos scenario may give its private PostgreSQL (the shared one is on 5432). */
export const privatePostgresPorts = [5440, 5441, 5442, 5443, 5444] as const;

/** Where PostgreSQL 15's server programs are (Debian's layout). */
const bin = (name: string) => join('/usr/lib/postgresql/15/bin', name);

/** How `stop()` shuts the server down (`pg_ctl -m`). */
export type PostgresStopMode = 'fast' | 'immediate';

export interface PrivatePostgresOptions {
  /** Ports to try, first free one wins. @default {@link privatePostgresPorts} */
  ports?: readonly number[];
}

/**
 * A PostgreSQL cluster of the test's own on 127.0.0.1 (never the shared server on 5432): `initdb`
 * into a temporary directory as the `postgres` user (the tests run as root, which PostgreSQL
 * refuses), trust authentication, started and stopped with `pg_ctl` so a scenario can take the
 * database away mid-workload. `fsync=off` (a test cluster, thrown away after; a server crash
 * loses nothing, only a machine crash would), commits durable as by default. `close()` stops it
 * (immediately) and removes its directory whatever state it is in; safe to call twice, and also
 * run if the test process exits first.
 */
export class PrivatePostgres {
  #closed = false;
  /** How many times the server was started (1 after `create`). */
  starts = 0;
  private readonly cleanupOnExit = () => this.#cleanupSync();

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {
    process.once('exit', this.cleanupOnExit);
  }

  /** `initdb` a cluster and start it on the first free port of `options.ports`. */
  static async create(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
    const problems: string[] = [];
    for (const port of options.ports ?? privatePostgresPorts) {
      if (await listening(port)) {
        problems.push(`${port}: in use`);
        continue;
      }
      const dir = await mkdtemp(join(tmpdir(), 'agentry-chaos-pg-'));
      const pg = new PrivatePostgres(port, dir);
      try {
        await pg.#init();
        await pg.start();
        return pg;
      } catch (e) {
        problems.push(`${port}: ${String(e)}`);
        await pg.close();
      }
    }
    throw new Error(`no private PostgreSQL could start:\n${problems.join('\n')}`);
  }

  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust: no password). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** Start the server; resolves once it accepts connections (`pg_ctl -w`). */
  async start(): Promise<void> {
    if (this.#closed) throw new Error('private postgres is closed');
    const options = [
      `-p ${this.port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${this.dir}`,
      // Safe against a server crash (`-m immediate`), which leaves the OS's page cache intact:
      // only a machine crash would lose data. `synchronous_commit` stays on — with it off, a
      // crash loses commits a client was already told about, which is what scenario 5 checks.
      '-c fsync=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
    await this.#pgCtl([
      'start',
      '-w',
      '-t',
      '60',
      '-l',
      join(this.dir, 'server.log'),
      '-o',
      options,
    ]);
    this.starts += 1;
  }

  /**
   * Stop the server: `fast` (clients disconnected, a clean shutdown) or `immediate` (the
   * postmaster quits at once, as after a crash: recovery runs at the next start). Resolves once
   * it is down.
   */
  async stop(mode: PostgresStopMode = 'fast'): Promise<void> {
    await this.#pgCtl(['stop', '-w', '-t', '60', '-m', mode]);
  }

  /** True when something accepts TCP connections on the port. */
  running(): Promise<boolean> {
    return listening(this.port);
  }

  /** The server's log, for a failing test's message. */
  async log(): Promise<string> {
    return readFile(join(this.dir, 'server.log'), 'utf8').catch(() => '');
  }

  /** Stop the server at once and remove the cluster. Safe to call twice; never throws. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pgCtl(['stop', '-w', '-t', '30', '-m', 'immediate']).catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
    process.off('exit', this.cleanupOnExit);
  }

  async #init(): Promise<void> {
    // The directory must belong to the user the server runs as.
    const { uid, gid } = postgresUser();
    await chown(this.dir, uid, gid);
    await chmod(this.dir, 0o700);
    await run('runuser', [
      '-u',
      'postgres',
      '--',
      bin('initdb'),
      '-D',
      this.dataDir,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
  }

  #pgCtl(args: string[]): Promise<string> {
    return run('runuser', ['-u', 'postgres', '--', bin('pg_ctl'), '-D', this.dataDir, ...args]);
  }

  /** For `process.on('exit')`: synchronous, best effort. */
  #cleanupSync(): void {
    if (this.#closed) return;
    try {
      execFileSync(
        'runuser',
        ['-u', 'postgres', '--', bin('pg_ctl'), '-D', this.dataDir, 'stop', '-m', 'immediate'],
        { stdio: 'ignore', timeout: 10_000 },
      );
    } catch {
      // Not running.
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
  return { uid: id('-u'), gid: id('-g') };
}

/** Run a program to its end (at most 90 s); rejects with its output when it fails. */
function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 90_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Whether something accepts a TCP connection on 127.0.0.1:`port` (within 1 s). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
