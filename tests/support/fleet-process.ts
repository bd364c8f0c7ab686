import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

/** Where a {@link FleetProcess} runs from; `script` is a path to a TypeScript entry point. */
export type FleetProcessSource = 'source' | 'bundle' | { script: string };

/** One real agentry process (planner, executor, api) started from source, its JSON logs kept. */
export class FleetProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #child: ChildProcess;
  #waiters: Array<{ test: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];

  /**
   * `from: 'source'` runs `apps/<app>/src/main.ts` through tsx (as in development); `'bundle'`
   * runs the built `apps/<app>/dist/main.js` (as in production: build it first); `{ script }`
   * runs another entry point through tsx (a test's own build of the app, e.g. with extra tools).
   */
  constructor(
    readonly app: 'planner' | 'executor' | 'api',
    env: Record<string, string>,
    from: FleetProcessSource = 'source',
  ) {
    const args =
      from === 'bundle'
        ? [join(repoRoot, 'apps', app, 'dist', 'main.js')]
        : [
            '--import',
            'tsx',
            from === 'source' ? join(repoRoot, 'apps', app, 'src', 'main.ts') : from.script,
          ];
    this.#child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { ...process.env, AGENTRY_LOG_LEVEL: 'debug', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { msg: text, level: 'raw' };
        }
        this.lines.push(line);
        this.#waiters = this.#waiters.filter((w) =>
          w.test(line) ? (w.resolve(line), false) : true,
        );
      }
    });
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) =>
      this.#child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** True until the process has exited. */
  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Resolve with the first log line (already seen or future) matching `test`. */
  waitForLog(test: (l: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      void this.exited.then(({ code, signal }) =>
        reject(
          new Error(
            `${this.app} exited (${code ?? signal}) before the log line; stderr: ${this.stderr.join('').slice(-2000)}\n${this.lines
              .slice(-5)
              .map((l) => JSON.stringify(l))
              .join('\n')}`,
          ),
        ),
      );
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.app}: no matching log line within ${timeoutMs} ms; last lines:\n${this.lines
                .slice(-15)
                .map((l) => JSON.stringify(l))
                .join('\n')}\nstderr: ${this.stderr.join('').slice(-2000)}`,
            ),
          ),
        timeoutMs,
      );
      this.#waiters.push({
        test,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  signal(sig: NodeJS.Signals): void {
    this.#child.kill(sig);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
