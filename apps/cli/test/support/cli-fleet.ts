import { execFile } from 'node:child_process';
import { vi } from 'vitest';
import { createExecutor, loadExecutorConfig, type ExecutorApp } from '@agentry/executor';
import { createPlanner, loadPlannerConfig } from '@agentry/planner';
import { TestApi } from '../../../api/test/support/test-api';
import { buildProgram } from '../../src/program';
import { cliCommand } from './cli-bundle';

export interface CliFleet {
  api: TestApi;
  executor: ExecutorApp;
  /** The environment the `agentry` command runs with: the fleet's, plus AGENTRY_API_URL. */
  env: Record<string, string>;
}

/**
 * The real API (see TestApi) plus a real planner and executor in-process on the same services,
 * schema and prefix, as `agentry dev` wires them. `api.close()` stops all of it.
 */
export async function startCliFleet(): Promise<CliFleet> {
  const api = await TestApi.start();
  try {
    const executor = await createExecutor(loadExecutorConfig(api.env), {
      services: api.services,
      health: false,
    });
    api.onClose(() => executor.close({ deadlineMs: 5_000 }));
    const planner = await createPlanner(loadPlannerConfig(api.env), {
      services: api.services,
      health: false,
    });
    api.onClose(() => planner.close({ deadlineMs: 5_000 }));
    await executor.start();
    await planner.start();
    return { api, executor, env: { ...api.env, AGENTRY_API_URL: api.url } };
  } catch (e) {
    await api.close();
    throw e;
  }
}

export interface CliResult {
  /** Everything printed with console.log, one entry per call. */
  out: string;
  exitCode: number;
}

/**
 * Run `agentry <args>` in-process: the real program from `buildProgram(env)`, console output
 * captured. A failing command rejects with its error, as main.ts would print it.
 */
export async function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...values: unknown[]) => {
    lines.push(values.map(String).join(' '));
  });
  try {
    await buildProgram(env).parseAsync(args, { from: 'user' });
    return { out: lines.join('\n'), exitCode: Number(process.exitCode ?? 0) };
  } finally {
    log.mockRestore();
    process.exitCode = undefined;
  }
}

/** Run the real `agentry` CLI as a process (its production bundle, see {@link cliCommand}). */
export async function spawnCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const [node, main] = await cliCommand();
  return new Promise((resolve) => {
    execFile(
      node,
      [main, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? -1 : 0;
        resolve({ stdout, stderr, exitCode: code });
      },
    );
  });
}
