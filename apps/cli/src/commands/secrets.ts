import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { keyRefsOf, llmEnv, toLlmConfig } from '@agentry/llm';
import { AppError, parseEnv, toAppError } from '@agentry/schema';
import { isSecretRef } from '@agentry/secrets';
import { openCliSecretStore } from '../cli-secrets';
import { table } from '../render';

/**
 * `agentry secrets get|check|rotate`: resolve, verify and rotate the references the fleet is
 * configured with, through the same store (cache, audit) the processes use.
 */
export function secretsCommands(program: Command, env: Record<string, string | undefined>) {
  const secrets = program
    .command('secrets')
    .description('secret references: get, check, rotate (docs/secrets.md)');

  secrets
    .command('get')
    .description('resolve a reference; prints only whether it resolved unless --reveal')
    .argument('<ref>', 'aws://…, vault://…, env://…, file://…')
    .option('--reveal', 'print the value (refused when AGENTRY_ENV=production)')
    .option('--allow-production', 'with --reveal: allow it in production all the same')
    .action(async (ref: string, opts: { reveal?: boolean; allowProduction?: boolean }) => {
      const secrets = await openCliSecretStore(env, { auditToDatabase: opts.reveal === true });
      const { store, config } = secrets;
      try {
        if (opts.reveal && config.env === 'production' && !opts.allowProduction) {
          throw new AppError(
            'POLICY_DENIED',
            '--reveal is refused in production; add --allow-production if you really must',
          );
        }
        const value = await store.get(ref);
        if (opts.reveal) {
          // Showing a value to a person is an audited act of its own (who, what, never the value).
          await secrets.audit
            ?.record({
              actor: secrets.actor,
              action: 'secret.reveal',
              targetType: 'secret',
              targetId: ref,
              details: { env: config.env },
            })
            .catch(() => console.error('audit: secret.reveal not stored'));
        }
        console.log(opts.reveal ? value : `${ref}: resolves (${value.length} characters)`);
      } finally {
        await secrets.close();
      }
    });

  secrets
    .command('check')
    .description('resolve every configured reference; exit code 1 if any fails')
    .action(async () => {
      const refs = configuredRefs(env);
      const secrets = await openCliSecretStore(env);
      const { store } = secrets;
      try {
        const rows = await Promise.all(
          refs.map(async ({ variable, ref }) => {
            try {
              await store.get(ref);
              return { variable, ref, result: 'ok' };
            } catch (e) {
              const error = toAppError(e);
              return { variable, ref, result: `${error.code}: ${error.message}` };
            }
          }),
        );
        console.log(
          rows.length === 0
            ? 'no secret references configured'
            : table(rows, ['variable', 'ref', 'result']),
        );
        if (rows.some((r) => r.result !== 'ok')) process.exitCode = 1;
      } finally {
        await secrets.close();
      }
    });

  secrets
    .command('rotate')
    .description('write a new current version (AWS: staged and promoted; Vault: a new KV version)')
    .argument('<ref>', 'aws://… or vault://… (with #key for one key of a JSON secret)')
    .option(
      '--generate <bytes>',
      'a new random value of this many bytes (base64url): for tokens agentry itself checks',
    )
    .option(
      '--from-stdin',
      'read the new value from stdin (a provider-issued key, a new database password)',
    )
    .action(async (ref: string, opts: { generate?: string; fromStdin?: boolean }) => {
      // No default: a random value written over a key a provider issued would lock the fleet out.
      if ((opts.generate === undefined) === (opts.fromStdin !== true)) {
        throw new AppError(
          'VALIDATION',
          'say where the new value comes from: --generate <bytes> or --from-stdin',
        );
      }
      const value =
        opts.generate === undefined ? (await readStdin()).trim() : generated(opts.generate);
      if (value === '') throw new AppError('VALIDATION', 'the new value is empty');
      const secrets = await openCliSecretStore(env, { auditToDatabase: true });
      try {
        const { version } = await secrets.store.rotate(ref, value);
        console.log(`${ref}: rotated${version === undefined ? '' : ` to version ${version}`}`);
        console.log(
          'running processes pick it up within AGENTRY_SECRETS_TTL_MS, or at once on an auth failure',
        );
      } finally {
        await secrets.close();
      }
    });
}

/** Every variable whose value is a secret reference, and the model providers' key references. */
export function configuredRefs(
  env: Record<string, string | undefined>,
): Array<{ variable: string; ref: string }> {
  const found = new Map<string, string>();
  for (const [variable, value] of Object.entries(env)) {
    if (value !== undefined && (variable.startsWith('AGENTRY_') || variable === 'DATABASE_URL')) {
      if (isSecretRef(value)) found.set(variable, value);
    }
  }
  // Defaults (env://OPENAI_API_KEY …) apply without a variable saying so.
  for (const [variable, ref] of Object.entries(keyRefsOf(toLlmConfig(parseEnv(llmEnv, env))))) {
    if (ref !== undefined) found.set(variable, ref);
  }
  return [...found]
    .map(([variable, ref]) => ({ variable, ref }))
    .sort((a, b) => a.variable.localeCompare(b.variable));
}

function generated(bytes: string): string {
  const n = Number(bytes);
  if (!Number.isInteger(n) || n < 16 || n > 512) {
    throw new AppError('VALIDATION', '--generate takes 16 to 512 bytes');
  }
  return randomBytes(n).toString('base64url');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
