import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecretsSettings } from '@agentry/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecretStore } from './open-secret-store';
import { startFakeVault, type FakeVault } from './testing';

const settings = (vault: Partial<SecretsSettings['vault']> = {}): SecretsSettings => ({
  ttlMs: 300_000,
  staleMs: 900_000,
  allowEnvInProduction: false,
  aws: { region: undefined, endpoint: undefined },
  vault: {
    address: undefined,
    namespace: undefined,
    auth: 'token',
    tokenRef: 'env://VAULT_TOKEN',
    roleId: undefined,
    secretIdRef: undefined,
    role: undefined,
    jwtPath: '/nonexistent',
    ...vault,
  },
});

describe('openSecretStore', () => {
  let vault: FakeVault;
  beforeAll(async () => {
    vault = await startFakeVault();
    vault.seed('kv', 'agentry/llm', { api_key: 'llm-canary-0001-not-a-secret' });
  });
  afterAll(() => vault.close());

  it('keeps Vault credentials out of logs: the token and each login token are scrubbed', async () => {
    const token = vault.issueToken();
    const store = await openSecretStore(settings({ address: vault.url }), {
      actor: 'test',
      production: false,
      env: { VAULT_TOKEN: token },
    });
    try {
      expect(await store.get('vault://kv/agentry/llm#api_key')).toBe(
        'llm-canary-0001-not-a-secret',
      );
      expect(store.scrubber.scrub(`token=${token}`)).toBe('token=[secret]');

      vault.addAppRole('role-1', 'secret-id-canary-0001-not-a-secret');
      const approle = await openSecretStore(
        settings({
          address: vault.url,
          auth: 'approle',
          roleId: 'role-1',
          secretIdRef: 'env://SID',
        }),
        { actor: 'test', production: false, env: { SID: 'secret-id-canary-0001-not-a-secret' } },
      );
      await approle.get('vault://kv/agentry/llm#api_key');
      const line = approle.scrubber.scrub(
        JSON.stringify(vault.requests) + 'secret-id-canary-0001-not-a-secret',
      );
      expect(line).not.toContain('secret-id-canary-0001-not-a-secret');
      await approle.close();
    } finally {
      await store.close();
    }
  });

  it('an ambient VAULT_ADDR needs no Vault credential until a vault:// reference is read', async () => {
    const store = await openSecretStore(settings(), {
      actor: 'test',
      production: true,
      env: { VAULT_ADDR: vault.url, DB_PASSWORD_FILE: 'unused' },
    });
    try {
      await expect(store.get('vault://kv/agentry/llm#api_key')).rejects.toMatchObject({
        code: 'POLICY_DENIED',
      });
      await expect(store.get('aws://prod/agentry/db')).rejects.toMatchObject({
        code: 'VALIDATION',
        message: expect.stringContaining('AGENTRY_SECRETS_AWS_REGION'),
      });
    } finally {
      await store.close();
    }
  });

  it('re-reads a Vault token file (a Vault Agent sink) after Vault refuses the token in use', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'agentry-vault-sink-')), 'token');
    await writeFile(file, `${vault.issueToken()}\n`);
    const store = await openSecretStore(
      settings({ address: vault.url, tokenRef: `file://${file}` }),
      { actor: 'test', production: true },
    );
    try {
      expect(await store.get('vault://kv/agentry/llm#api_key')).toBe(
        'llm-canary-0001-not-a-secret',
      );
      // The agent's token is revoked and a new one written to the sink.
      vault.revokeTokens();
      const fresh = vault.issueToken();
      await writeFile(file, `${fresh}\n`);
      store.invalidate('vault://kv/agentry/llm#api_key');
      expect(await store.get('vault://kv/agentry/llm#api_key')).toBe(
        'llm-canary-0001-not-a-secret',
      );
      expect(store.scrubber.scrub(fresh)).toBe('[secret]');
    } finally {
      await store.close();
    }
  });

  it('reads an AppRole secret id file again at each login (a re-issued id needs no restart)', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'agentry-approle-')), 'secret-id');
    vault.addAppRole('role-2', 'secret-id-canary-0002-not-a-secret');
    await writeFile(file, 'secret-id-canary-0002-not-a-secret\n');
    const store = await openSecretStore(
      settings({
        address: vault.url,
        auth: 'approle',
        roleId: 'role-2',
        secretIdRef: `file://${file}`,
      }),
      { actor: 'test', production: true },
    );
    try {
      await store.get('vault://kv/agentry/llm#api_key');
      // The id is re-issued (the old one no longer logs in) and the session token revoked.
      vault.addAppRole('role-2', 'secret-id-canary-0003-not-a-secret');
      await writeFile(file, 'secret-id-canary-0003-not-a-secret\n');
      vault.revokeTokens();
      store.invalidate('vault://kv/agentry/llm#api_key');
      expect(await store.get('vault://kv/agentry/llm#api_key')).toBe(
        'llm-canary-0001-not-a-secret',
      );
      expect(store.scrubber.scrub('secret-id-canary-0003-not-a-secret')).toBe('[secret]');
    } finally {
      await store.close();
    }
  });
});
