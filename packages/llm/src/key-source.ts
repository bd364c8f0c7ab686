import { AppError } from '@agentry/schema';
import { parseSecretRef } from '@agentry/secrets';

/**
 * Where API keys are resolved: in the fleet, the process's secret store (cached, audited,
 * rotation-aware). `withSecret` runs a call with the key and, when the provider rejected it
 * (`details.credentialRejected`), reloads it and retries once if it changed.
 */
export interface KeySource {
  get(ref: string): Promise<string>;
  withSecret<T>(ref: string, use: (value: string) => Promise<T>): Promise<T>;
}

/**
 * Keys from environment variables only (`env://NAME`): for a provider used outside the fleet.
 * An unset variable is `POLICY_DENIED` naming it; another scheme needs the secret store.
 */
export function envKeySource(env: Record<string, string | undefined> = process.env): KeySource {
  const get = (raw: string): Promise<string> => {
    const ref = parseSecretRef(raw);
    if (ref.scheme !== 'env') {
      return Promise.reject(
        new AppError('VALIDATION', `${ref.scheme}:// key references need the secret store`),
      );
    }
    const value = env[ref.id];
    if (value === undefined || value === '') {
      return Promise.reject(
        new AppError('POLICY_DENIED', `the API key variable ${ref.id} is not set`, {
          retryable: false,
          details: { credentialRejected: true },
        }),
      );
    }
    return Promise.resolve(value);
  };
  return { get, withSecret: async (ref, use) => use(await get(ref)) };
}
