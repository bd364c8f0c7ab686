import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '@agentry/db/testing';
import { startFakeVault, type FakeVault } from '@agentry/secrets/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli, spawnCli } from './support/cli-fleet';

/** `agentry secrets get|check|rotate` against a fake Vault and files, no fleet needed. */
describe('agentry secrets', () => {
  let vault: FakeVault;
  let env: Record<string, string>;
  let tokenFile: string;
  beforeAll(async () => {
    vault = await startFakeVault();
    vault.seed('kv', 'agentry/webhook', { signing_key: 'webhook-canary-0001-not-a-secret' });
    const dir = await mkdtemp(join(tmpdir(), 'agentry-secrets-cli-'));
    tokenFile = join(dir, 'vault-token');
    await writeFile(tokenFile, `${vault.issueToken()}\n`);
    env = {
      AGENTRY_ENV: 'development',
      AGENTRY_SECRETS_VAULT_ADDR: vault.url,
      AGENTRY_SECRETS_VAULT_TOKEN_REF: `file://${tokenFile}`,
    };
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await vault.close();
  });

  it('get says whether a reference resolves, and prints the value only with --reveal', async () => {
    const ref = 'vault://kv/agentry/webhook#signing_key';
    const plain = await runCli(['secrets', 'get', ref], env);
    expect(plain.out).toBe(`${ref}: resolves (32 characters)`);
    const revealed = await runCli(['secrets', 'get', ref, '--reveal'], env);
    expect(revealed.out).toBe('webhook-canary-0001-not-a-secret');
  });

  it('--reveal and env:// references are refused in production, with a clear reason', async () => {
    const production = { ...env, AGENTRY_ENV: 'production', SOME_KEY: 'x-not-a-secret-x' };
    await expect(
      runCli(['secrets', 'get', 'vault://kv/agentry/webhook#signing_key', '--reveal'], production),
    ).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    await expect(runCli(['secrets', 'get', 'env://SOME_KEY'], production)).rejects.toMatchObject({
      code: 'POLICY_DENIED',
      message: expect.stringContaining('AGENTRY_SECRETS_ALLOW_ENV'),
    });
  });

  it('check resolves every configured reference and fails (exit 1) naming the broken one', async () => {
    const ok = await runCli(['secrets', 'check'], {
      ...env,
      AGENTRY_API_TOKEN: 'vault://kv/agentry/webhook#signing_key',
    });
    expect(ok.exitCode).toBe(0);
    expect(ok.out).toMatch(/AGENTRY_API_TOKEN\s+vault:\/\/kv\/agentry\/webhook#signing_key\s+ok/);

    const broken = await spawnCli(['secrets', 'check'], {
      ...env,
      AGENTRY_API_TOKEN: 'vault://kv/agentry/missing#token',
      AGENTRY_LLM_PROVIDER: 'openai',
      AGENTRY_LLM_MODEL: 'm',
    });
    expect(broken.exitCode).toBe(1);
    expect(broken.stdout).toMatch(/AGENTRY_API_TOKEN .*NOT_FOUND/);
    expect(broken.stdout).toMatch(/AGENTRY_LLM_API_KEY_REF\s+env:\/\/OPENAI_API_KEY\s+NOT_FOUND/);
  });

  it('rotate writes a new Vault version that get then returns; the value is never printed', async () => {
    const ref = 'vault://kv/agentry/webhook#signing_key';
    const rotated = await runCli(['secrets', 'rotate', ref, '--generate', '32'], env);
    expect(rotated.out).toContain(`${ref}: rotated to version 2`);
    const now = vault.read('kv', 'agentry/webhook')?.data.signing_key as string;
    expect(now).not.toBe('webhook-canary-0001-not-a-secret');
    expect(rotated.out).not.toContain(now);
    expect((await runCli(['secrets', 'get', ref, '--reveal'], env)).out).toBe(now);
  });

  it('rotate and --reveal are recorded in audit_log of the configured database, without values', async () => {
    const database = await createTestDatabase({ prefix: 't_cli_audit' });
    try {
      const withDb = {
        ...env,
        DATABASE_URL:
          process.env.AGENTRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
        AGENTRY_DB_SCHEMA: database.schema,
      };
      const ref = 'vault://kv/agentry/webhook#signing_key';
      await runCli(['secrets', 'rotate', ref, '--generate', '24'], withDb);
      const value = (await runCli(['secrets', 'get', ref, '--reveal'], withDb)).out;
      const rows = await database.db
        .selectFrom('auditLog')
        .selectAll()
        .where('targetType', '=', 'secret')
        .orderBy('id')
        .execute();
      expect(rows.map((r) => r.action)).toEqual(
        expect.arrayContaining(['secret.rotate', 'secret.reveal']),
      );
      expect(rows.every((r) => r.actor.startsWith('cli@'))).toBe(true);
      expect(JSON.stringify(rows)).not.toContain(value);
    } finally {
      await database.close();
    }
  });
});
