import { InvalidArgumentError, type Command } from 'commander';

/**
 * `agentry fake-llm`: the fake LLM server of `@agentry/llm/testing` as a process, for local runs
 * without a model and for fault drills (docs/fake-llm-server.md). Serves until SIGINT or
 * SIGTERM, then closes and exits 0. The key never shows in its output.
 */
export function fakeLlmCommand(program: Command, env: Record<string, string | undefined>) {
  program
    .command('fake-llm')
    .description('serve a fake OpenAI / Anthropic API on 127.0.0.1 that answers valid plans')
    .option('--port <port>', 'port on 127.0.0.1 (0: any free port)', parsePort, 4010)
    .option(
      '--api-key <key>',
      'the key it accepts; prefer AGENTRY_FAKE_LLM_API_KEY (a flag shows in the process list)',
    )
    .action(async (opts: { port: number; apiKey?: string }) => {
      const { startFakeLlmServer } = await import('@agentry/llm/testing');
      const server = await startFakeLlmServer({
        port: opts.port,
        apiKey: opts.apiKey ?? env.AGENTRY_FAKE_LLM_API_KEY ?? 'test-key',
      });
      const { url } = server;
      console.log(
        `fake LLM server on ${url} (OpenAI base URL ${url}/v1, Anthropic base URL ${url})`,
      );
      console.log(
        'fault control (loopback, no key): POST /_fake/script, POST /_fake/mode, GET /_fake/stats, POST /_fake/reset — see docs/fake-llm-server.md',
      );
      const signal = await untilSignal();
      console.log(`${signal}: closing`);
      await server.close();
    });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  }
  return port;
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
