import { describe, expect, it } from 'vitest';
import { describePostgresUrl } from './describe-postgres-url';

describe('describePostgresUrl', () => {
  it('names host, port and database, never the password', () => {
    const d = describePostgresUrl(
      // secretlint-disable-next-line -- a deliberately fake credential, to test redaction
      'postgres://agentry:s3cret@db.internal:6432/prod?sslmode=require',
      'app',
    );
    expect(d).toBe('postgres db.internal:6432/prod schema=app');
    expect(d).not.toContain('s3cret');
    expect(describePostgresUrl('postgresql://localhost/test')).toBe('postgres localhost:5432/test');
  });

  it('does not echo a URL it cannot parse', () => {
    expect(describePostgresUrl('host=x password=s3cret')).toBe('postgres (unparseable url)');
  });
});
