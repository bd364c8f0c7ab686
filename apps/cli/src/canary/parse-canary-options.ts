import { AppError } from '@agentry/schema';
import { isSecretRef } from '@agentry/secrets';
import type { CanaryThresholds } from './canary-thresholds';

/** The flags of `agentry canary analyze`, as commander hands them over (strings). */
export interface CanaryFlags {
  prometheus?: string;
  window: string;
  at?: string;
  canarySelector: string;
  baselineSelector: string;
  maxErrorRate: string;
  maxP95Ms: string;
  errorRateMargin: string;
  errorRateFactor: string;
  p95Factor: string;
  p95MarginMs: string;
  minSteps: string;
  timeout: string;
  json?: boolean;
  bearerTokenRef?: string;
}

/** Validated settings of one analysis. */
export interface CanaryOptions {
  prometheusUrl: URL;
  window: string;
  at: Date;
  canarySelector: string;
  baselineSelector: string;
  thresholds: CanaryThresholds;
  timeoutMs: number;
  json: boolean;
  bearerTokenRef: string | undefined;
}

const DURATION = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};
const MATCHER = String.raw`\s*[A-Za-z_][A-Za-z0-9_]*\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*`;
const MATCHERS = new RegExp(`^${MATCHER}(?:,${MATCHER})*,?\\s*$`);

const invalid = (message: string) => new AppError('VALIDATION', message);

/** A Prometheus duration (`5m`, `1h30m`, `500ms`) in ms. */
function durationMs(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  return [...text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)].reduce(
    (ms, [, n = '0', unit = 's']) => ms + Number(n) * (UNIT_MS[unit] ?? 0),
    0,
  );
}

function number(flag: string, text: string, ok: (n: number) => boolean, rule: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || !ok(n)) {
    throw invalid(`${flag} takes ${rule}, not ${JSON.stringify(text)}`);
  }
  return n;
}

function selector(flag: string, text: string): string {
  if (!MATCHERS.test(text)) {
    throw invalid(
      `${flag} takes label matchers as inside a PromQL selector's braces, e.g. 'track="canary"' ` +
        `or 'app="agentry",track=~"canary|canary-2"', not ${JSON.stringify(text)}`,
    );
  }
  return text.trim().replace(/,\s*$/, '');
}

function timeoutMs(text: string): number {
  const ms = /^\d+(?:\.\d+)?$/.test(text) ? Number(text) : durationMs(text);
  if (ms === undefined || !(ms > 0)) {
    throw invalid(
      `--timeout takes a duration such as 10s or 500ms (a bare number is ms), not ${JSON.stringify(text)}`,
    );
  }
  return ms;
}

function at(text: string | undefined, now: number): Date {
  if (text === undefined) return new Date(now);
  const date = /^\d+(?:\.\d+)?$/.test(text) ? new Date(Number(text) * 1_000) : new Date(text);
  if (Number.isNaN(date.getTime())) {
    throw invalid(`--at takes an RFC 3339 time or unix seconds, not ${JSON.stringify(text)}`);
  }
  return date;
}

function prometheusUrl(text: string | undefined): URL {
  if (text === undefined || text === '') {
    throw invalid('no Prometheus to ask: pass --prometheus <url> or set AGENTRY_PROMETHEUS_URL');
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('--prometheus takes an http(s) URL such as http://prometheus:9090');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid('--prometheus takes an http(s) URL such as http://prometheus:9090');
  }
  return url;
}

function secretRef(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  // The value is never echoed: it might be the token itself, pasted by mistake.
  if (!isSecretRef(text)) {
    throw invalid(
      '--bearer-token-ref takes a secret reference (aws://, vault://, env://, file://), not a ' +
        'token: a token on the command line shows in the process list (the text is not shown)',
    );
  }
  return text;
}

/**
 * Validate the flags of `agentry canary analyze`. Throws `AppError('VALIDATION')` naming the
 * flag and the rule (the CLI exits 1); never echoes `--bearer-token-ref`'s text.
 */
export function parseCanaryOptions(flags: CanaryFlags, now: number = Date.now()): CanaryOptions {
  const url = prometheusUrl(flags.prometheus);
  if (!(durationMs(flags.window) ?? 0)) {
    throw invalid(
      `--window takes a Prometheus duration such as 5m or 1h30m, not ${JSON.stringify(flags.window)}`,
    );
  }
  const canarySelector = selector('--canary-selector', flags.canarySelector);
  const baselineSelector = selector('--baseline-selector', flags.baselineSelector);
  if (canarySelector === baselineSelector) {
    throw invalid('--canary-selector and --baseline-selector select the same series');
  }
  const ratio = (n: number) => n >= 0 && n <= 1;
  const factor = (n: number) => n >= 1;
  const nonNegative = (n: number) => n >= 0;
  return {
    prometheusUrl: url,
    window: flags.window,
    at: at(flags.at, now),
    canarySelector,
    baselineSelector,
    thresholds: {
      maxErrorRate: number('--max-error-rate', flags.maxErrorRate, ratio, 'a ratio from 0 to 1'),
      maxP95Ms: number('--max-p95-ms', flags.maxP95Ms, (n) => n > 0, 'a number of ms above 0'),
      errorRateMargin: number(
        '--error-rate-margin',
        flags.errorRateMargin,
        ratio,
        'a ratio from 0 to 1',
      ),
      errorRateFactor: number(
        '--error-rate-factor',
        flags.errorRateFactor,
        factor,
        'a factor >= 1',
      ),
      p95Factor: number('--p95-factor', flags.p95Factor, factor, 'a factor >= 1'),
      p95MarginMs: number('--p95-margin-ms', flags.p95MarginMs, nonNegative, 'a number of ms >= 0'),
      minSteps: number(
        '--min-steps',
        flags.minSteps,
        (n) => Number.isInteger(n) && n >= 1,
        'an integer >= 1',
      ),
    },
    timeoutMs: timeoutMs(flags.timeout),
    json: flags.json === true,
    bearerTokenRef: secretRef(flags.bearerTokenRef),
  };
}
