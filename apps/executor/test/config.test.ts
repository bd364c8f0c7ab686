import { describe, expect, it } from 'vitest';
import { loadExecutorConfig } from '../src';

describe('loadExecutorConfig', () => {
  it('turns the environment into settings, with defaults', () => {
    const config = loadExecutorConfig({
      AGENTRY_HTTP_ALLOW_HOSTS: 'api.example.com, *.corp.example',
      AGENTRY_EXECUTOR_LOCK_MS: '5000',
    });
    expect(config).toMatchObject({
      env: 'development',
      concurrency: 16,
      http: { allowHosts: ['api.example.com', '*.corp.example'], allowPrivate: false },
      lockDurationMs: 5_000,
      maxStalledCount: 2,
    });
  });

  it('lists every bad variable in one readable VALIDATION error', () => {
    const error = (() => {
      try {
        loadExecutorConfig({
          AGENTRY_ENV: 'staging',
          AGENTRY_EXECUTOR_CONCURRENCY: 'lots',
          AGENTRY_EXECUTOR_LOCK_MS: '10',
          AGENTRY_HTTP_ALLOW_PRIVATE: 'maybe',
        });
      } catch (e) {
        return e as Error & { code: string };
      }
      throw new Error('expected a configuration error');
    })();
    expect(error.code).toBe('VALIDATION');
    expect(error.message.split('\n')[0]).toBe('invalid configuration:');
    for (const name of [
      'AGENTRY_ENV',
      'AGENTRY_EXECUTOR_CONCURRENCY',
      'AGENTRY_EXECUTOR_LOCK_MS',
      'AGENTRY_HTTP_ALLOW_PRIVATE',
    ])
      expect(error.message).toMatch(new RegExp(`^  ${name}: `, 'm'));
  });

  it('refuses private egress in production, listed with any other problem', () => {
    expect(() =>
      loadExecutorConfig({ AGENTRY_ENV: 'production', AGENTRY_HTTP_ALLOW_PRIVATE: 'true' }),
    ).toThrow(/AGENTRY_HTTP_ALLOW_PRIVATE: true is refused when AGENTRY_ENV=production/);
    expect(() =>
      loadExecutorConfig({
        AGENTRY_ENV: 'production',
        AGENTRY_HTTP_ALLOW_PRIVATE: 'yes',
        AGENTRY_EXECUTOR_MAX_STALLED: '99',
      }),
    ).toThrow(
      /AGENTRY_EXECUTOR_MAX_STALLED: [^\n]+\n {2}AGENTRY_HTTP_ALLOW_PRIVATE: true is refused/,
    );
    expect(
      loadExecutorConfig({ AGENTRY_ENV: 'production', AGENTRY_HTTP_ALLOW_PRIVATE: 'false' }).http
        .allowPrivate,
    ).toBe(false);
  });
});
