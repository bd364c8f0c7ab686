import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cliDir = fileURLToPath(new URL('../..', import.meta.url));
/** Inside apps/cli, so the bundle's external packages (Bull Board, PGlite) resolve as in dist/. */
const bundlesDir = join(cliDir, 'node_modules', '.agentry-test-cli');

/**
 * The `agentry` CLI as the tests run it: the production bundle (tsup, as `pnpm build` makes it),
 * built once per test run from the current sources and shared by every test file of the run
 * (`AGENTRY_TEST_RUN`, named by tests/support/global-setup.ts). A process starts in ~0.3 s
 * instead of ~2 s under tsx: the tests that spawn the CLI tens of times (the rollback drill,
 * canary analysis, the migration plan's scripts) spend their time testing, not transpiling.
 * Returns the command line: `node <bundle>/main.js`.
 */
export async function cliCommand(): Promise<[string, string]> {
  const dir = join(bundlesDir, process.env.AGENTRY_TEST_RUN ?? `pid${String(process.pid)}`);
  const main = join(dir, 'main.js');
  const done = join(dir, '.built');
  if (existsSync(done)) return [process.execPath, main];
  // One builder per run: whoever creates the lock directory builds, the others wait for it.
  const lock = `${dir}.lock`;
  let building = false;
  try {
    await mkdir(bundlesDir, { recursive: true });
    await mkdir(lock);
    building = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (building) {
    try {
      await tsup(dir);
      await writeFile(done, new Date().toISOString());
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
    return [process.execPath, main];
  }
  const deadline = Date.now() + 120_000;
  while (!existsSync(done)) {
    // The builder writes `done` before it removes the lock: no lock and still no `done` = failed.
    if (!existsSync(lock) && !existsSync(done))
      throw new Error(`the CLI bundle build in ${dir} failed (see its test)`);
    if (Date.now() > deadline) throw new Error(`waited 120 s for the CLI bundle in ${dir}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return [process.execPath, main];
}

/**
 * `cliCommand()` as one string, for scripts that take the CLI as a command line (the drill's
 * `--cli`, `AGENTRY_CLI`, split on spaces by the scripts): the paths must hold no whitespace.
 */
export async function cliShellCommand(): Promise<string> {
  const parts = await cliCommand();
  if (parts.some((part) => /\s/.test(part)))
    throw new Error(`a path holds whitespace, the scripts cannot run it: ${parts.join(' ')}`);
  return parts.join(' ');
}

/** Remove this run's bundle (global teardown); other runs going on keep theirs. */
export async function removeCliBundle(): Promise<void> {
  const run = process.env.AGENTRY_TEST_RUN;
  if (run) await rm(join(bundlesDir, run), { recursive: true, force: true });
}

function tsup(outDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        join(cliDir, 'node_modules', 'tsup', 'dist', 'cli-default.js'),
        '--silent',
        '--out-dir',
        outDir,
      ],
      { cwd: cliDir, timeout: 120_000 },
      (error, _stdout, stderr) =>
        error
          ? reject(new Error(`building the CLI bundle failed: ${stderr}`, { cause: error }))
          : resolve(),
    );
  });
}
