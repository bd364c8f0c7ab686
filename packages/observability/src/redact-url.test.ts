import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact-url';

describe('redactUrl', () => {
  it.each([
    // secretlint-disable-next-line -- a deliberately fake credential, to test redaction
    ['postgres://app:s3cret@db:5432/agentry', 'postgres://db:5432/agentry'],
    ['redis://:s3cret@redis:6379/0', 'redis://redis:6379/0'],
    ['rediss://default:s3cret@cache.example.com', 'rediss://cache.example.com'],
    ['https://token@github.com/org/repo.git', 'https://github.com/org/repo.git'],
    ['postgres://app:p@ss@db/agentry', 'postgres://db/agentry'],
    [
      'postgresql://db/agentry?user=app&password=s3cret&sslmode=require',
      'postgresql://db/agentry?user=app&password=[redacted]&sslmode=require',
    ],
  ])('%s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });

  it('leaves URLs without credentials alone', () => {
    expect(redactUrl('http://127.0.0.1:9464/metrics')).toBe('http://127.0.0.1:9464/metrics');
    expect(redactUrl('redis://redis:6379')).toBe('redis://redis:6379');
  });

  it('scrubs every URL inside a longer message', () => {
    const message =
      // secretlint-disable-next-line -- a deliberately fake credential, to test redaction
      'connect ECONNREFUSED postgres://app:s3cret@db:5432/agentry (fallback redis://u:pw@r:6379), mail ops@example.com';
    const out = redactUrl(message);
    expect(out).not.toContain('s3cret');
    expect(out).not.toContain('pw@');
    expect(out).toBe(
      'connect ECONNREFUSED postgres://db:5432/agentry (fallback redis://r:6379), mail ops@example.com',
    );
  });
});
