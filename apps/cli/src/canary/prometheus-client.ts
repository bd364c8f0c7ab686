import { z } from 'zod';
import { AppError, isAppError, toError } from '@agentry/schema';
import { retry } from '@agentry/resilience';

/** One element of an instant vector. */
export interface PrometheusSample {
  metric: Readonly<Record<string, string>>;
  /** The sample's value; `NaN`, `±Infinity` as Prometheus sent them. */
  value: number;
}

/** Options of {@link createPrometheusClient}. */
export interface PrometheusClientOptions {
  /** Base URL: `http://prometheus:9090`, or one with a path prefix; the API is under `/api/v1`. */
  url: URL;
  /** Bound of each request, in ms. A request that times out is not retried. */
  timeoutMs: number;
  /** Sent as `Authorization: Bearer …`; never printed. */
  bearerToken?: string | undefined;
  /** Most requests per query, the first included. @default 3 */
  attempts?: number;
  /** Cap of the first backoff, in ms. @default 250 */
  backoffMs?: number;
  /** Before each retry (for a note on stderr). */
  onRetry?: (event: { attempt: number; delayMs: number; error: Error }) => void;
}

/** Instant queries against Prometheus's HTTP API. */
export interface PrometheusClient {
  /**
   * `GET /api/v1/query` of `promql` at `at`. Resolves with the instant vector; rejects with an
   * `AppError`: `UNAVAILABLE` (unreachable, 5xx, not Prometheus's JSON), `TIMEOUT`,
   * `POLICY_DENIED` (401/403), `NOT_FOUND` (404), `RATE_LIMITED` (429) or `VALIDATION` (Prometheus
   * rejected the query). Network errors, 5xx and 429 are retried with backoff and jitter.
   */
  query(promql: string, at: Date, signal?: AbortSignal): Promise<PrometheusSample[]>;
}

const apiResponse = z.union([
  z.object({
    status: z.literal('success'),
    data: z.object({
      resultType: z.string(),
      result: z.array(
        z.object({
          metric: z.record(z.string(), z.string()),
          value: z.tuple([z.number(), z.string()]),
        }),
      ),
    }),
  }),
  z.object({
    status: z.literal('error'),
    errorType: z.string().optional(),
    error: z.string().optional(),
  }),
]);

/** The URL as it may be printed: without user and password. */
export function printableUrl(url: URL): string {
  const copy = new URL(url);
  copy.username = '';
  copy.password = '';
  copy.search = '';
  return copy.toString().replace(/\/$/, '');
}

/** A Prometheus HTTP API client with a timeout per request and bounded retries. */
export function createPrometheusClient(options: PrometheusClientOptions): PrometheusClient {
  const where = printableUrl(options.url);
  const endpoint = new URL(options.url);
  endpoint.pathname = `${endpoint.pathname.replace(/\/$/, '')}/api/v1/query`;
  const seconds = `${options.timeoutMs / 1_000} s`;

  const once = async (promql: string, at: Date, outer: AbortSignal | undefined) => {
    const url = new URL(endpoint);
    url.searchParams.set('query', promql);
    url.searchParams.set('time', (at.getTime() / 1_000).toFixed(3));
    const deadline = AbortSignal.timeout(options.timeoutMs);
    const signal = outer ? AbortSignal.any([outer, deadline]) : deadline;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.bearerToken !== undefined) headers.authorization = `Bearer ${options.bearerToken}`;
    let status: number;
    let text: string;
    try {
      const response = await fetch(url, { headers, signal });
      status = response.status;
      text = await response.text();
    } catch (caught) {
      if (outer?.aborted) throw toError(outer.reason);
      if (deadline.aborted) {
        throw new AppError('TIMEOUT', `Prometheus at ${where} did not answer within ${seconds}`, {
          retryable: false,
          details: { timeoutMs: options.timeoutMs },
        });
      }
      const error = toError(caught);
      const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
      const why = typeof cause?.code === 'string' ? cause.code : String(cause?.message ?? error);
      throw new AppError('UNAVAILABLE', `Prometheus at ${where} is unreachable: ${why}`, {
        cause: error,
      });
    }
    return toSamples(status, text, where);
  };

  return {
    query(promql, at, signal) {
      // Network errors, 5xx and 429 are retryable AppErrors; a timeout or a bad query is not.
      const policy = retry({
        maxAttempts: options.attempts ?? 3,
        backoff: { initialMs: options.backoffMs ?? 250, maxMs: 2_000 },
      });
      if (options.onRetry) policy.onRetry(options.onRetry);
      let gaveUpAfter = 0;
      policy.onGiveUp(({ attempts, reason }) => {
        if (reason === 'attempts') gaveUpAfter = attempts;
      });
      return policy
        .execute(() => once(promql, at, signal), signal)
        .catch((caught: unknown) => {
          let error = toError(caught);
          if (gaveUpAfter > 0 && isAppError(error)) {
            error = new AppError(
              error.code,
              `${error.message} (gave up after ${gaveUpAfter} attempts)`,
              {
                cause: error,
                details: error.details,
                retryable: false,
              },
            );
          }
          if (isAppError(error) && error.code === 'VALIDATION') {
            throw new AppError('VALIDATION', `${error.message}\n  query: ${promql}`, {
              cause: error,
              details: error.details,
            });
          }
          throw error;
        });
    },
  };
}

/** An HTTP answer of the query API as samples, or the AppError it stands for. */
function toSamples(status: number, text: string, where: string): PrometheusSample[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = apiResponse.safeParse(json);
  const body = parsed.success ? parsed.data : undefined;
  const retryable = status >= 500 || status === 429;
  const code = status === 429 ? 'RATE_LIMITED' : retryable ? 'UNAVAILABLE' : 'VALIDATION';
  if (status === 401 || status === 403) {
    const said =
      body?.status === 'error' ? ` ${body.errorType ?? 'error'}: ${body.error ?? ''}` : '';
    throw new AppError(
      'POLICY_DENIED',
      `Prometheus at ${where} refused the request (${status}${said}): check --bearer-token-ref`,
      { details: { status } },
    );
  }
  if (body?.status === 'error') {
    const { errorType = 'error', error = '(no message)' } = body;
    throw new AppError(code, `Prometheus at ${where} answered ${status} ${errorType}: ${error}`, {
      details: { status, errorType },
    });
  }
  if (status === 404) {
    throw new AppError(
      'NOT_FOUND',
      `no Prometheus query API at ${where} (404): check --prometheus`,
    );
  }
  if (status < 200 || status >= 300) {
    throw new AppError(code, `Prometheus at ${where} answered ${status}: ${excerpt(text)}`, {
      details: { status },
    });
  }
  if (body === undefined) {
    throw new AppError(
      'UNAVAILABLE',
      `Prometheus at ${where} answered ${status} with something that is not its API's JSON: ` +
        excerpt(text),
      { retryable: false, details: { status } },
    );
  }
  const { resultType, result } = body.data;
  if (resultType !== 'vector') {
    throw new AppError('VALIDATION', `Prometheus answered a ${resultType}, not an instant vector`);
  }
  return result.map((r) => ({ metric: r.metric, value: parseValue(r.value[1]) }));
}

/** Prometheus's float text: `NaN`, `+Inf`, `-Inf` or a number. */
function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > 120 ? `${flat.slice(0, 120)}…` : flat);
}
