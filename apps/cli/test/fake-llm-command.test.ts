import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const key = 'cli-fake-secret-789';

let child: ChildProcess | undefined;
afterEach(() => {
  // A failed test must not leave the server running.
  if (child?.exitCode === null) child.kill('SIGKILL');
});

/** Start `agentry fake-llm --port 0` as a process; resolve with its URL once it has printed it and the hint. */
async function startCommand(): Promise<{ proc: ChildProcess; url: string; output: () => string }> {
  const started = spawn(process.execPath, ['--import', 'tsx', main, 'fake-llm', '--port', '0'], {
    env: { PATH: process.env.PATH ?? '', AGENTRY_FAKE_LLM_API_KEY: key },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = started;
  let out = '';
  started.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  started.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed; output: ${out}`)), 15_000);
    started.stdout.on('data', () => {
      const found = /fake LLM server on (http:\/\/127\.0\.0\.1:\d+) /.exec(out)?.[1];
      // Both lines printed: the server listens and the hint is out.
      if (found === undefined || !out.includes('/_fake/reset')) return;
      clearTimeout(timer);
      resolve(found);
    });
    started.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  return { proc: started, url, output: () => out };
}

describe('agentry fake-llm', () => {
  it('serves both APIs with the key from the environment, never prints it, exits 0 on SIGTERM', async () => {
    const { proc, url, output } = await startCommand();
    expect(output()).toContain(`(OpenAI base URL ${url}/v1, Anthropic base URL ${url})`);
    expect(output()).toMatch(/POST \/_fake\/script/);

    const answer = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(answer.status).toBe(200);
    const stats = await fetch(`${url}/_fake/stats`);
    expect(await stats.json()).toMatchObject({ requests: 1, byApi: { openai: 1, anthropic: 0 } });

    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(output()).not.toContain(key);
  });
});
