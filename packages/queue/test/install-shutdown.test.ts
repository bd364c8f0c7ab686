import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { installShutdown } from '../src/install-shutdown';
import { noopLogger } from '../src/queue-logger';

const fixture = fileURLToPath(new URL('./fixtures/shutdown-target.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

interface Run {
  output: () => string;
  waitFor: (text: string) => Promise<void>;
  signal: (s: NodeJS.Signals) => void;
  exit: Promise<{ code: number | null; at: number }>;
}

function start(mode: string): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, at: Date.now() })),
  );
  return {
    output: () => out,
    waitFor: async (text) => {
      const until = Date.now() + 15_000;
      while (!out.includes(text)) {
        if (Date.now() > until) throw new Error(`no "${text}" in: ${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    signal: (s) => child.kill(s),
    exit,
  };
}

describe('installShutdown (real process)', () => {
  it('closes under the deadline and exits 0 on SIGTERM', async () => {
    const run = start('ok');
    await run.waitFor('ready');
    run.signal('SIGTERM');
    const { code } = await run.exit;
    expect(code).toBe(0);
    expect(run.output()).toContain('closing 400');
    expect(run.output()).toContain('closed');
  });

  it('exits 1 at once on a second signal', async () => {
    const run = start('hang');
    await run.waitFor('ready');
    run.signal('SIGTERM');
    await run.waitFor('closing');
    const t0 = Date.now();
    run.signal('SIGINT');
    const { code, at } = await run.exit;
    expect(code).toBe(1);
    expect(at - t0).toBeLessThan(300); // well before deadline + margin (600 ms)
  });

  it('exits 1 when close throws', async () => {
    const run = start('throw');
    await run.waitFor('ready');
    run.signal('SIGTERM');
    expect((await run.exit).code).toBe(1);
  });

  it('exits 1 when close overruns the deadline plus margin', async () => {
    const run = start('hang');
    await run.waitFor('ready');
    const t0 = Date.now();
    run.signal('SIGTERM');
    const { code, at } = await run.exit;
    expect(code).toBe(1);
    expect(at - t0).toBeGreaterThanOrEqual(550);
    expect(run.output()).toContain('shutdown deadline passed');
  });

  it('returns an uninstall function that removes its listeners', () => {
    const before = process.listenerCount('SIGTERM');
    const uninstall = installShutdown(
      { close: async () => undefined },
      { deadlineMs: 100, log: noopLogger, exit: () => undefined },
    );
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    uninstall();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
