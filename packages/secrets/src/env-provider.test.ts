import { describe, expect, it } from 'vitest';
import { envProvider } from './env-provider';
import { parseSecretRef } from './secret-ref';

const canary = 'canary-0000-not-a-secret';
const env = { AGENTRY_TEST_TOKEN: canary, AGENTRY_TEST_EMPTY: '' };
const ref = parseSecretRef('env://AGENTRY_TEST_TOKEN');

describe('envProvider', () => {
  it('reads the variable outside production', async () => {
    const provider = envProvider({ env, production: false });
    expect(provider.scheme).toBe('env');
    await expect(provider.get(ref)).resolves.toEqual({ value: canary });
  });

  it('reads the variable afresh at each get', async () => {
    const live: Record<string, string> = { ...env };
    const provider = envProvider({ env: live, production: false });
    live.AGENTRY_TEST_TOKEN = 'canary-1111-not-a-secret';
    await expect(provider.get(ref)).resolves.toEqual({ value: 'canary-1111-not-a-secret' });
  });

  it('refuses env:// in production with a message saying what to do instead', async () => {
    const provider = envProvider({ env, production: true });
    const error = await provider.get(ref).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'POLICY_DENIED', retryable: false });
    const message = (error as Error).message;
    expect(message).toContain('env://AGENTRY_TEST_TOKEN');
    expect(message).toMatch(/development/);
    expect(message).toMatch(/aws:\/\/.*vault:\/\/.*file:\/\//);
    expect(message).toContain('AGENTRY_SECRETS_ALLOW_ENV=true');
    expect(JSON.stringify(error)).not.toContain(canary);
  });

  it('serves env:// in production when explicitly allowed', async () => {
    const provider = envProvider({ env, production: true, allowInProduction: true });
    await expect(provider.get(ref)).resolves.toEqual({ value: canary });
  });

  it('rejects an unset or empty variable with NOT_FOUND naming it', async () => {
    const provider = envProvider({ env, production: false });
    await expect(provider.get(parseSecretRef('env://AGENTRY_TEST_MISSING'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('AGENTRY_TEST_MISSING is not set'),
    });
    await expect(provider.get(parseSecretRef('env://AGENTRY_TEST_EMPTY'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('AGENTRY_TEST_EMPTY is empty'),
    });
  });
});
