import { AppError } from '@agentry/schema';
import { describe, expect, it } from 'vitest';
import { parseHeaders } from '../src/open-fleet-tracing';

describe('collector headers from a secret reference', () => {
  it('reads name=value pairs, URL-decoded, names lower-cased', () => {
    expect(
      parseHeaders('Authorization=Basic%20dGVzdA==, x-team = core,', 'env://OTLP_HEADERS'),
    ).toEqual({ authorization: 'Basic dGVzdA==', 'x-team': 'core' });
  });

  it('refuses a malformed value naming the reference, never echoing the value', () => {
    for (const bad of ['just-a-token-value', '=novalue', 'x-key=%E0%A4%A']) {
      let caught: unknown;
      try {
        parseHeaders(bad, 'vault://kv/otlp#headers');
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(AppError);
      expect((caught as AppError).code).toBe('VALIDATION');
      expect((caught as AppError).message).toContain('vault://kv/otlp#headers');
      expect((caught as AppError).message).not.toContain(bad);
    }
  });
});
