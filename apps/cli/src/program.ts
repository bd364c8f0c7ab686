import { Command } from 'commander';
import { createApiClient } from './api-client';
import { resolveApiToken } from './cli-secrets';
import { budgetCommands } from './commands/budget';
import { canaryCommands } from './commands/canary';
import { conversationCommands } from './commands/conversations';
import { costCommands } from './commands/cost';
import { deadLetterCommands } from './commands/dead-letters';
import { devCommand } from './commands/dev';
import { doctorCommand } from './commands/doctor';
import { fakeLlmCommand } from './commands/fake-llm';
import { logLevelCommand } from './commands/log-level';
import { migrateCommands } from './commands/migrate';
import { runsCommands } from './commands/runs';
import { secretsCommands } from './commands/secrets';
import { submitCommand } from './commands/submit';

/** The `agentry` command. Talks to the API at AGENTRY_API_URL with AGENTRY_API_TOKEN. */
export function buildProgram(env: Record<string, string | undefined> = process.env): Command {
  const program = new Command('agentry')
    .description('queue-driven worker fleet for LLM-agent work')
    .option('--api-url <url>', 'agentry API', env.AGENTRY_API_URL ?? 'http://127.0.0.1:8080')
    .showHelpAfterError();
  // The token comes from the environment only (a flag would show in the process list): a value,
  // or a secret reference resolved once, when a command first calls the API.
  let token: Promise<string | undefined> | undefined;
  const api = () =>
    createApiClient({
      baseUrl: program.opts<{ apiUrl: string }>().apiUrl,
      token: () => (token ??= resolveApiToken(env)),
    });
  devCommand(program);
  submitCommand(program, api);
  runsCommands(program, api, env);
  deadLetterCommands(program, api);
  costCommands(program, api);
  logLevelCommand(program, api, env);
  budgetCommands(program, api);
  conversationCommands(program, api);
  migrateCommands(program, env);
  fakeLlmCommand(program, env);
  secretsCommands(program, env);
  doctorCommand(program, env);
  canaryCommands(program, env);
  return program;
}
