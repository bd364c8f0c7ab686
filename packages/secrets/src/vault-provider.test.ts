import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError, type AppError } from '@agentry/schema';
import { parseSecretRef } from './secret-ref';
import { startFakeVault, type FakeVault, type FakeVaultOptions } from './testing';
import { vaultProvider, type VaultProvider, type VaultProviderOptions } from './vault-provider';

const apiKey = 'fake-api-key-0000-not-real';
const org = 'fake-org-not-real';
const ref = (raw: string) => parseSecretRef(raw);

let vault: FakeVault;
const opened: VaultProvider[] = [];

async function start(options?: FakeVaultOptions): Promise<FakeVault> {
  await vault.close();
  vault = await startFakeVault(options);
  return vault;
}

function provider(
  auth: VaultProviderOptions['auth'],
  extra: Partial<VaultProviderOptions> = {},
): VaultProvider {
  const created = vaultProvider({ address: vault.url, auth, ...extra });
  opened.push(created);
  return created;
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (caught) {
    if (isAppError(caught)) return caught;
    throw caught;
  }
  throw new Error('expected a rejection');
}

/** The error as every sink could render it: JSON, inspect (stack, details, cause chain). */
function expectClean(error: unknown, ...secrets: string[]): void {
  const rendered = `${JSON.stringify(error)}\n${inspect(error, { depth: 20 })}`;
  for (const secret of secrets) expect(rendered).not.toContain(secret);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, withinMs = 2_000): Promise<void> {
  const end = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

beforeEach(async () => {
  vault = await startFakeVault();
});

afterEach(async () => {
  for (const each of opened.splice(0)) await each.close();
  await vault.close();
});

describe('vaultProvider get', () => {
  it('reads #key with a token, and the only key without one', async () => {
    vault.seed('kv', 'agentry/llm', { api_key: apiKey, org });
    vault.seed('kv', 'agentry/db', { password: 'fake-db-password' });
    vault.seed('kv', 'agentry/port', { port: 5432 });
    const token = vault.issueToken();
    const vaultSecrets = provider({ method: 'token', token });

    const read = await vaultSecrets.get(ref('vault://kv/agentry/llm#api_key'));
    expect(read).toEqual({ value: apiKey, version: '1' });
    expect(await vaultSecrets.get(ref('vault://kv/agentry/db'))).toMatchObject({
      value: 'fake-db-password',
    });
    expect((await vaultSecrets.get(ref('vault://kv/agentry/port'))).value).toBe('5432');

    const several = await rejection(vaultSecrets.get(ref('vault://kv/agentry/llm')));
    expect(several.code).toBe('VALIDATION');
    expect(several.message).toContain('#key');
    const missingKey = await rejection(vaultSecrets.get(ref('vault://kv/agentry/llm#nope')));
    expect(missingKey.code).toBe('NOT_FOUND');
    const missing = await rejection(vaultSecrets.get(ref('vault://kv/agentry/none#k')));
    expect(missing.code).toBe('NOT_FOUND');
    for (const error of [several, missingKey, missing]) expectClean(error, token, apiKey, org);
    expect(inspect(vaultSecrets, { depth: 20 }) + JSON.stringify(read)).not.toContain(token);

    const kvRequest = vault.requests.find((r) => r.path === '/v1/kv/data/agentry/llm');
    expect(kvRequest).toEqual({ method: 'GET', path: '/v1/kv/data/agentry/llm', status: 200 });
  });

  it('pins a version with ?version=', async () => {
    vault.seed('kv', 'agentry/llm', { api_key: 'fake-v1' });
    vault.seed('kv', 'agentry/llm', { api_key: 'fake-v2' });
    const vaultSecrets = provider({ method: 'token', token: vault.issueToken() });

    expect(await vaultSecrets.get(ref('vault://kv/agentry/llm#api_key?version=1'))).toEqual({
      value: 'fake-v1',
      version: '1',
    });
    expect(await vaultSecrets.get(ref('vault://kv/agentry/llm#api_key'))).toEqual({
      value: 'fake-v2',
      version: '2',
    });
    const absent = await rejection(vaultSecrets.get(ref('vault://kv/agentry/llm?version=9')));
    expect(absent.code).toBe('NOT_FOUND');
  });

  it('logs in with AppRole once and reuses the token', async () => {
    vault.seed('secret', 'agentry/llm', { api_key: apiKey });
    vault.addAppRole('fake-role-id', 'fake-secret-id-0000');
    const vaultSecrets = provider({
      method: 'approle',
      roleId: 'fake-role-id',
      secretId: 'fake-secret-id-0000',
    });

    const [first, second] = await Promise.all([
      vaultSecrets.get(ref('vault://secret/agentry/llm#api_key')),
      vaultSecrets.get(ref('vault://secret/agentry/llm#api_key')),
    ]);
    expect(first.value).toBe(apiKey);
    expect(second.value).toBe(apiKey);
    await vaultSecrets.get(ref('vault://secret/agentry/llm#api_key'));
    expect(vault.requestCount('/v1/auth/approle/login')).toBe(1);

    const wrong = provider({
      method: 'approle',
      roleId: 'fake-role-id',
      secretId: 'fake-wrong-id',
    });
    const denied = await rejection(wrong.get(ref('vault://secret/agentry/llm#api_key')));
    expect(denied.code).toBe('POLICY_DENIED');
    expect(denied.details?.credentialRejected).toBe(true);
    expectClean(denied, 'fake-wrong-id', 'fake-secret-id-0000', apiKey);
  });

  it('logs in with Kubernetes, reading the service-account JWT file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fake-vault-'));
    try {
      const jwtPath = join(dir, 'token');
      await writeFile(jwtPath, 'fake.jwt.payload\n');
      vault.addKubernetesRole('agentry-executor', 'fake.jwt.payload');
      vault.seed('kv', 'agentry/llm', { api_key: apiKey });
      const vaultSecrets = provider({ method: 'kubernetes', role: 'agentry-executor', jwtPath });

      expect((await vaultSecrets.get(ref('vault://kv/agentry/llm'))).value).toBe(apiKey);
      expect(vault.requestCount('/v1/auth/kubernetes/login')).toBe(1);

      const noFile = provider({ method: 'kubernetes', role: 'x', jwtPath: join(dir, 'absent') });
      const unreadable = await rejection(noFile.get(ref('vault://kv/agentry/llm')));
      expect(unreadable).toMatchObject({ code: 'UNAVAILABLE', retryable: false });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps namespaces apart: same path, different secrets', async () => {
    vault.seed('kv', 'agentry/llm', { api_key: 'fake-team-a' }, 'team-a');
    vault.seed('kv', 'agentry/llm', { api_key: 'fake-team-b' }, 'team-b');
    const root = vault.issueToken();
    const get = (namespace?: string) =>
      provider({ method: 'token', token: root }, namespace === undefined ? {} : { namespace }).get(
        ref('vault://kv/agentry/llm#api_key'),
      );

    expect((await get('team-a')).value).toBe('fake-team-a');
    expect((await get('team-b')).value).toBe('fake-team-b');
    expect((await rejection(get())).code).toBe('NOT_FOUND');
    expect(
      vault.requests.filter((r) => r.path.startsWith('/v1/kv/')).map((r) => r.namespace),
    ).toEqual(['team-a', 'team-b', undefined]);

    const teamA = vault.issueToken(3600, { namespace: 'team-a' });
    const crossing = provider({ method: 'token', token: teamA }, { namespace: 'team-b' });
    const denied = await rejection(crossing.get(ref('vault://kv/agentry/llm#api_key')));
    expect(denied.code).toBe('POLICY_DENIED');
  });
});

describe('vaultProvider tokens', () => {
  it('logs in again when Vault says the token expired (403), transparently', async () => {
    let clock = Date.parse('2030-01-01T00:00:00Z');
    await start({ now: () => clock });
    vault.seed('kv', 'agentry/llm', { api_key: apiKey });
    vault.addAppRole('fake-role-id', 'fake-secret-id-0000');
    const vaultSecrets = provider({
      method: 'approle',
      roleId: 'fake-role-id',
      secretId: 'fake-secret-id-0000',
    });

    await vaultSecrets.get(ref('vault://kv/agentry/llm'));
    clock += 3_601_000; // Past the lease on Vault's clock only: the provider learns it from a 403.
    expect((await vaultSecrets.get(ref('vault://kv/agentry/llm'))).value).toBe(apiKey);
    expect(vault.requestCount('/v1/auth/approle/login')).toBe(2);
    expect(vault.requests.filter((r) => r.status === 403)).toHaveLength(1);
  });

  it('logs in again past 2/3 of a lease it cannot renew, before calling', async () => {
    let clock = 0;
    vault.seed('kv', 'agentry/llm', { api_key: apiKey });
    vault.addAppRole('fake-role-id', 'fake-secret-id-0000', { renewable: false, ttlSeconds: 60 });
    const vaultSecrets = provider(
      { method: 'approle', roleId: 'fake-role-id', secretId: 'fake-secret-id-0000' },
      { now: () => clock },
    );

    await vaultSecrets.get(ref('vault://kv/agentry/llm'));
    clock += 30_000;
    await vaultSecrets.get(ref('vault://kv/agentry/llm'));
    expect(vault.requestCount('/v1/auth/approle/login')).toBe(1);
    clock += 11_000;
    await vaultSecrets.get(ref('vault://kv/agentry/llm'));
    expect(vault.requestCount('/v1/auth/approle/login')).toBe(2);
    expect(vault.requestCount('/v1/auth/token/renew-self')).toBe(0);
    expect(vault.requests.filter((r) => r.status === 403)).toHaveLength(0);
  });

  it('renews a login token with renew-self before it expires, and close() stops it', async () => {
    vault.seed('kv', 'agentry/llm', { api_key: apiKey });
    // A 3 s lease (renewed at 2 s): long enough that a loaded machine's timer lag (a full test
    // run on 2 cores) does not push the renewal past the point the token stops being used.
    vault.addAppRole('fake-role-id', 'fake-secret-id-0000', { ttlSeconds: 3 });
    const vaultSecrets = provider({
      method: 'approle',
      roleId: 'fake-role-id',
      secretId: 'fake-secret-id-0000',
    });
    const loggedIn = Date.now();
    await vaultSecrets.get(ref('vault://kv/agentry/llm'));

    await until(() => vault.requestCount('/v1/auth/token/renew-self') >= 1, 3_000);
    await sleep(Math.max(0, loggedIn + 3_150 - Date.now())); // Past the first lease.
    expect((await vaultSecrets.get(ref('vault://kv/agentry/llm'))).value).toBe(apiKey);
    expect(vault.requestCount('/v1/auth/approle/login')).toBe(1);
    expect(vault.requests.filter((r) => r.status === 403)).toHaveLength(0);

    await vaultSecrets.close();
    const renewals = vault.requestCount('/v1/auth/token/renew-self');
    await sleep(750);
    expect(vault.requestCount('/v1/auth/token/renew-self')).toBe(renewals);
  });

  it('logs in again on the next call when a renewal fails', async () => {
    vault.seed('kv', 'agentry/llm', { api_key: apiKey });
    vault.addAppRole('fake-role-id', 'fake-secret-id-0000', { ttlSeconds: 1 });
    vault.fail('500', { pathPrefix: '/v1/auth/token/renew-self' });
    const vaultSecrets = provider({
      method: 'approle',
      roleId: 'fake-role-id',
      secretId: 'fake-secret-id-0000',
    });
    await vaultSecrets.get(ref('vault://kv/agentry/llm'));
    await until(() => vault.requestCount('/v1/auth/token/renew-self') >= 1, 1_000);
    await sleep(20);
    await vaultSecrets.get(ref('vault://kv/agentry/llm'));
    expect(vault.requestCount('/v1/auth/approle/login')).toBe(2);
  });

  it('looks a configured token up and renews it', async () => {
    vault.seed('kv', 'agentry/llm', { api_key: apiKey });
    const vaultSecrets = provider({ method: 'token', token: vault.issueToken(2) });
    await vaultSecrets.get(ref('vault://kv/agentry/llm'));
    await until(() => vault.requestCount('/v1/auth/token/renew-self') >= 1, 1_500);
    expect(vault.requestCount('/v1/auth/token/lookup-self')).toBe(1);
  });

  it('refuses a wrong token: POLICY_DENIED, credentialRejected, no token in the error', async () => {
    vault.seed('kv', 'agentry/llm', { api_key: apiKey });
    const wrong = 'hvs.fakeWRONGTOKEN0000000000';
    const denied = await rejection(
      provider({ method: 'token', token: wrong }).get(ref('vault://kv/agentry/llm')),
    );
    expect(denied).toMatchObject({ code: 'POLICY_DENIED', retryable: false });
    expect(denied.details?.credentialRejected).toBe(true);
    expectClean(denied, wrong, apiKey);
  });

  it('gives up after one fresh login is refused as well', async () => {
    vault.seed('kv', 'agentry/llm', { api_key: apiKey });
    vault.addAppRole('fake-role-id', 'fake-secret-id-0000');
    const revokingFetch: typeof fetch = (input, init) => {
      if (String(input).includes('/v1/kv/')) vault.revokeTokens();
      return fetch(input, init);
    };
    const vaultSecrets = provider(
      { method: 'approle', roleId: 'fake-role-id', secretId: 'fake-secret-id-0000' },
      { fetch: revokingFetch },
    );
    const denied = await rejection(vaultSecrets.get(ref('vault://kv/agentry/llm')));
    expect(denied.details?.credentialRejected).toBe(true);
    expect(vault.requestCount('/v1/auth/approle/login')).toBe(2);
    expect(vault.requestCount('/v1/kv/')).toBe(2);
  });
});

describe('vaultProvider rotate', () => {
  it('writes version n+1 with check-and-set, keeping the other keys', async () => {
    vault.seed('kv', 'agentry/llm', { api_key: 'fake-old-key', org });
    const vaultSecrets = provider({ method: 'token', token: vault.issueToken() });

    const rotated = await vaultSecrets.rotate(ref('vault://kv/agentry/llm#api_key'), apiKey);
    expect(rotated).toEqual({ value: apiKey, version: '2' });
    expect(vault.read('kv', 'agentry/llm')).toEqual({ data: { api_key: apiKey, org }, version: 2 });
    expect(await vaultSecrets.get(ref('vault://kv/agentry/llm#api_key'))).toEqual(rotated);

    const created = await vaultSecrets.rotate(ref('vault://kv/agentry/new#token'), 'fake-new');
    expect(created.version).toBe('1');
    const unnamed = await rejection(vaultSecrets.rotate(ref('vault://kv/agentry/llm'), 'fake-x'));
    expect(unnamed.code).toBe('VALIDATION');
  });

  it('fails CONFLICT when another writer got in between, and keeps its write', async () => {
    vault.seed('kv', 'agentry/llm', { api_key: 'fake-old-key', org });
    const racingFetch: typeof fetch = (input, init) => {
      if (init?.method === 'POST' && String(input).includes('/v1/kv/data/')) {
        vault.seed('kv', 'agentry/llm', { api_key: 'fake-other-writer', org });
      }
      return fetch(input, init);
    };
    const token = vault.issueToken();
    const vaultSecrets = provider({ method: 'token', token }, { fetch: racingFetch });

    const conflict = await rejection(
      vaultSecrets.rotate(ref('vault://kv/agentry/llm#api_key'), apiKey),
    );
    expect(conflict).toMatchObject({ code: 'CONFLICT', retryable: false });
    expect(vault.read('kv', 'agentry/llm')?.data.api_key).toBe('fake-other-writer');
    expectClean(conflict, token, apiKey, org, 'fake-old-key');
  });

  it('rotates a secret whose latest version is deleted, by its metadata version', async () => {
    vault.seed('kv', 'agentry/llm', { api_key: 'fake-old-key' });
    const token = vault.issueToken();
    const deleted = await fetch(`${vault.url}/v1/kv/data/agentry/llm`, {
      method: 'DELETE',
      headers: { 'x-vault-token': token },
    });
    expect(deleted.status).toBe(204);
    const vaultSecrets = provider({ method: 'token', token });
    expect((await rejection(vaultSecrets.get(ref('vault://kv/agentry/llm')))).code).toBe(
      'NOT_FOUND',
    );

    const rotated = await vaultSecrets.rotate(ref('vault://kv/agentry/llm#api_key'), apiKey);
    expect(rotated.version).toBe('2');
  });
});

describe('vaultProvider faults', () => {
  it('maps sealed and 5xx to UNAVAILABLE (retryable)', async () => {
    vault.seed('kv', 'agentry/llm', { api_key: apiKey });
    const token = vault.issueToken();
    const vaultSecrets = provider({ method: 'token', token });

    vault.fail('sealed');
    const sealed = await rejection(vaultSecrets.get(ref('vault://kv/agentry/llm')));
    expect(sealed).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(sealed.details?.vaultErrors).toEqual(['Vault is sealed']);
    vault.fail('500');
    expect((await rejection(vaultSecrets.get(ref('vault://kv/agentry/llm')))).code).toBe(
      'UNAVAILABLE',
    );
    vault.fail(undefined);
    expect((await vaultSecrets.get(ref('vault://kv/agentry/llm'))).value).toBe(apiKey);
    expectClean(sealed, token, apiKey);
  });

  it('times out a hung Vault and closes the connection', async () => {
    vault.seed('kv', 'agentry/llm', { api_key: apiKey });
    const token = vault.issueToken();
    const vaultSecrets = provider({ method: 'token', token }, { timeoutMs: 200, renew: false });
    vault.fail('hang');

    const started = Date.now();
    const timedOut = await rejection(vaultSecrets.get(ref('vault://kv/agentry/llm')));
    expect(timedOut).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(vault.requests.at(-1)).toEqual({ method: 'GET', path: '/v1/kv/data/agentry/llm' });
    await until(() => vault.openHungRequests() === 0, 1_000);
    expectClean(timedOut, token, apiKey);

    const controller = new AbortController();
    const cancelled = vaultSecrets.get(ref('vault://kv/agentry/llm'), controller.signal);
    controller.abort();
    expect((await rejection(cancelled)).code).toBe('CANCELLED');
  });

  it('maps an unreachable Vault to UNAVAILABLE', async () => {
    const token = vault.issueToken();
    await vault.close();
    const vaultSecrets = provider({ method: 'token', token }, { renew: false });
    const down = await rejection(vaultSecrets.get(ref('vault://kv/agentry/llm')));
    expect(down.code).toBe('UNAVAILABLE');
    expectClean(down, token);
  });
});
