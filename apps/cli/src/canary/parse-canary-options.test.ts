import { describe, expect, it } from 'vitest';
import { parseCanaryOptions, type CanaryFlags } from './parse-canary-options';

const defaults: CanaryFlags = {
  prometheus: 'http://prometheus:9090',
  window: '5m',
  canarySelector: 'track="canary"',
  baselineSelector: 'track="stable"',
  maxErrorRate: '0.01',
  maxP95Ms: '500',
  errorRateMargin: '0.005',
  errorRateFactor: '1.5',
  p95Factor: '1.25',
  p95MarginMs: '50',
  minSteps: '50',
  timeout: '10s',
};
const parse = (over: Partial<CanaryFlags>) => parseCanaryOptions({ ...defaults, ...over }, 0);

describe('parseCanaryOptions', () => {
  it('reads the defaults into numbers, the window end defaulting to now', () => {
    const options = parse({});
    expect(options.thresholds).toEqual({
      maxErrorRate: 0.01,
      maxP95Ms: 500,
      errorRateMargin: 0.005,
      errorRateFactor: 1.5,
      p95Factor: 1.25,
      p95MarginMs: 50,
      minSteps: 50,
    });
    expect(options.timeoutMs).toBe(10_000);
    expect(options.at.getTime()).toBe(0);
    expect(options.prometheusUrl.href).toBe('http://prometheus:9090/');
  });

  it('reads --at as RFC 3339 or unix seconds, --timeout as a duration or ms', () => {
    expect(parse({ at: '2026-01-02T03:04:05Z' }).at.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(parse({ at: '1700000000.5' }).at.getTime()).toBe(1_700_000_000_500);
    expect(parse({ timeout: '500ms' }).timeoutMs).toBe(500);
    expect(parse({ timeout: '1m' }).timeoutMs).toBe(60_000);
    expect(parse({ timeout: '750' }).timeoutMs).toBe(750);
  });

  it('accepts matcher lists, trimming a trailing comma', () => {
    expect(parse({ canarySelector: 'app="agentry", track=~"canary|c2",' }).canarySelector).toBe(
      'app="agentry", track=~"canary|c2"',
    );
    expect(parse({ baselineSelector: 'track!="canary",job="a\\"b"' }).baselineSelector).toBe(
      'track!="canary",job="a\\"b"',
    );
  });

  it.each([
    [{ prometheus: undefined }, /pass --prometheus <url> or set AGENTRY_PROMETHEUS_URL/],
    [{ prometheus: 'prometheus:9090' }, /--prometheus takes an http\(s\) URL/],
    [{ prometheus: 'ftp://p' }, /--prometheus takes an http\(s\) URL/],
    [{ window: '5 minutes' }, /--window takes a Prometheus duration/],
    [{ window: '0m' }, /--window takes a Prometheus duration/],
    [{ at: 'yesterday' }, /--at takes an RFC 3339 time or unix seconds/],
    [{ canarySelector: 'track=canary' }, /--canary-selector takes label matchers/],
    [{ canarySelector: '{track="canary"}' }, /--canary-selector takes label matchers/],
    [{ canarySelector: 'track="x"} or vector(1) #' }, /--canary-selector takes label matchers/],
    [{ baselineSelector: 'track="canary"' }, /select the same series/],
    [{ maxErrorRate: '1%' }, /--max-error-rate takes a ratio from 0 to 1, not "1%"/],
    [{ maxErrorRate: '2' }, /--max-error-rate takes a ratio/],
    [{ maxP95Ms: '0' }, /--max-p95-ms takes a number of ms above 0/],
    [{ errorRateFactor: '0.5' }, /--error-rate-factor takes a factor >= 1/],
    [{ p95Factor: '' }, /--p95-factor takes a factor >= 1/],
    [{ p95MarginMs: '-1' }, /--p95-margin-ms takes a number of ms >= 0/],
    [{ minSteps: '2.5' }, /--min-steps takes an integer >= 1/],
    [{ timeout: '0' }, /--timeout takes a duration/],
  ])('rejects %o with a VALIDATION error naming the flag', (flags, message) => {
    expect(() => parse(flags)).toThrow(message);
    expect(() => parse(flags)).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
  });

  it('takes only a secret reference as --bearer-token-ref, never echoing what it was given', () => {
    expect(parse({ bearerTokenRef: 'file:///run/secrets/prom' }).bearerTokenRef).toBe(
      'file:///run/secrets/prom',
    );
    const token = 'eyJhbGciOiJIUzI1NiJ9-not-a-real-token';
    expect(() => parse({ bearerTokenRef: token })).toThrow(/takes a secret reference/);
    try {
      parse({ bearerTokenRef: token });
    } catch (e) {
      expect(String((e as Error).message)).not.toContain(token);
    }
  });
});
