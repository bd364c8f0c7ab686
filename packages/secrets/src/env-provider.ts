import { AppError } from '@agentry/schema';
import type { SecretProvider } from './secret-provider';

/** Options of {@link envProvider}. */
export interface EnvProviderOptions {
  /** Where variables are read. @default process.env */
  env?: Record<string, string | undefined>;
  /** Whether this process runs in production, where env secrets are refused unless allowed. */
  production: boolean;
  /** Serve `env://` in production anyway (`AGENTRY_SECRETS_ALLOW_ENV=true`). @default false */
  allowInProduction?: boolean;
}

/**
 * `env://NAME`: the value of an environment variable — for development. Contract of `get`:
 * in production without `allowInProduction` it rejects with `POLICY_DENIED` (environment
 * variables leak through `/proc`, crash dumps and `kubectl describe`); an unset or empty variable
 * rejects with `NOT_FOUND` naming the variable. The variable is read at each `get`. No rotation.
 */
export function envProvider(options: EnvProviderOptions): SecretProvider {
  const { env = process.env, production, allowInProduction = false } = options;
  return {
    scheme: 'env',
    get(ref) {
      if (production && !allowInProduction) {
        return Promise.reject(
          new AppError(
            'POLICY_DENIED',
            `${ref.raw}: env:// secrets are for development and are refused in production; ` +
              'use aws://, vault:// or file://, or set AGENTRY_SECRETS_ALLOW_ENV=true to allow ' +
              'them explicitly',
            { details: { scheme: 'env', variable: ref.id } },
          ),
        );
      }
      const value = env[ref.id];
      if (value === undefined || value === '') {
        return Promise.reject(
          new AppError(
            'NOT_FOUND',
            `${ref.raw}: environment variable ${ref.id} is ${value === undefined ? 'not set' : 'empty'}`,
            { details: { scheme: 'env', variable: ref.id } },
          ),
        );
      }
      return Promise.resolve({ value });
    },
  };
}
