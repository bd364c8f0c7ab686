import { sql } from 'kysely';
import { startFakeVault, type FakeVault } from '@agentry/secrets/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commonEnv, parseEnv, toCommonConfig } from '@agentry/schema';
import { openSecretStore } from '@agentry/secrets';
import { TestApi } from './support/test-api';

/**
 * The API token as a Vault reference: resolved through the process's secret store, rotated
 * without a restart, audited without its value.
 */
describe('API credentials from the secret store', () => {
  let vault: FakeVault;
  let api: TestApi;
  const ref = 'vault://kv/agentry/api#token';
  const first = 'api-token-canary-0001-not-a-secret';
  const second = 'api-token-canary-0002-not-a-secret';

  beforeAll(async () => {
    vault = await startFakeVault();
    vault.seed('kv', 'agentry/api', { token: first });
    process.env.T_VAULT_TOKEN = vault.issueToken();
    api = await TestApi.start({
      AGENTRY_API_TOKEN: ref,
      AGENTRY_SECRETS_VAULT_ADDR: vault.url,
      AGENTRY_SECRETS_VAULT_TOKEN_REF: 'env://T_VAULT_TOKEN',
    });
  });
  afterAll(async () => {
    await api?.close();
    await vault?.close();
  });

  const runs = (token: string) =>
    api.http('GET', '/v1/runs', undefined, { authorization: `Bearer ${token}` });

  it('accepts the token Vault holds, read once and cached', async () => {
    expect((await runs(first)).status).toBe(200);
    await runs(first);
    expect(vault.requestCount('/v1/kv/data/agentry/api')).toBe(1);
  });

  it('after a rotation by another process the running API takes the new token at once and refuses the old one', async () => {
    const other = await openSecretStore(toCommonConfig(parseEnv(commonEnv, api.env)).secrets, {
      actor: 'operator@test',
      production: false,
    });
    const { version } = await other.rotate(ref, second);
    await other.close();
    expect(version).toBe('2');
    const reads = () => vault.requestCount('/v1/kv/data/agentry/api');
    const before = reads();
    expect(vault.read('kv', 'agentry/api')?.data.token).toBe(second);
    expect((await runs(second)).status).toBe(200);
    expect((await runs(first)).status).toBe(401);
    // One reload for the new token; the old one's mismatch is within the 30 s rate limit.
    expect(reads()).toBe(before + 1);
    // A flood of wrong tokens costs no further reload.
    for (let i = 0; i < 5; i++) expect((await runs(`wrong-${i}`)).status).toBe(401);
    expect(reads()).toBe(before + 1);
  });

  it('audits each read and the rotation in audit_log, never the value', async () => {
    // Audit rows are written without holding up the read: wait for them.
    const audited = async () =>
      (
        await sql<{ action: string; target: string; row: string }>`
          select action, target_id as target, row_to_json(a)::text as row from audit_log a
          where target_type = 'secret' order by id`.execute(api.services.database.db)
      ).rows;
    await expect
      .poll(async () => (await audited()).map((r) => [r.action, r.target]))
      .toEqual(
        expect.arrayContaining([
          ['secret.read', ref],
          ['secret.invalidate', ref],
          ['secret.refresh', ref],
        ]),
      );
    const rows = await audited();
    for (const r of rows) {
      expect(r.row).not.toContain(first);
      expect(r.row).not.toContain(second);
    }
  });

  it('answers 503, not 401, while the secret cannot be resolved at all', async () => {
    api.services.secrets.invalidate(ref, 'test');
    vault.fail('sealed');
    try {
      expect((await runs(second)).status).toBe(503);
    } finally {
      vault.fail(undefined);
    }
    expect((await runs(second)).status).toBe(200);
  });
});
