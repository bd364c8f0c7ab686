import type { Command } from 'commander';

/**
 * `agentry dev`: the whole fleet in one process for local use — planner, executor and API sharing
 * one database (embedded PGlite unless DATABASE_URL is set) and Redis (started locally when absent
 * and installed). Migrates the database first (a dev convenience; workers never migrate on boot).
 */
export function devCommand(program: Command) {
  program
    .command('dev')
    .description('run the whole fleet in one process (planner, executor, API)')
    .option('--demo', 'submit a sample intent and follow it to the end')
    .option(
      '--fake-llm',
      'plan with the bundled fake LLM server (OpenAI API on 127.0.0.1) instead of templates only',
    )
    .action(async (opts: { demo?: boolean; fakeLlm?: boolean }) => {
      const { runDevFleet } = await import('./run-dev-fleet');
      await runDevFleet(opts);
    });
}
