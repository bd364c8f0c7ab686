import { limits, toAppError } from '@agentry/schema';
import { z } from 'zod';
import { clientOwnedHeaders, createGuardedHttpClient } from './guarded-http-client';
import { createOriginCircuits, type OriginCircuits } from './origin-circuits';
import { withRetrySafety } from './retry-safety';
import { defineTool, type ToolDefinition } from './tool';
import type { UrlGuard } from './url-guard';

const mib = 1024 * 1024;

/** Request headers a plan may not set: the client owns them, and proxy credentials. */
const reservedHeaders = new Set([...clientOwnedHeaders, 'proxy-authorization']);

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'an HTTP header name');

export const HttpRequestInput = z
  .strictObject({
    url: z.url().max(8_192),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('GET'),
    headers: z
      .record(
        headerName,
        z
          .string()
          .max(8_192)
          .regex(/^[^\r\n\0]*$/, 'no CR, LF or NUL'),
      )
      .refine((h) => Object.keys(h).every((k) => !reservedHeaders.has(k.toLowerCase())), {
        message: `these headers are set by the tool: ${[...reservedHeaders].join(', ')}`,
      })
      .optional(),
    body: z
      .json()
      .describe('A string is sent as is; any other JSON value as application/json.')
      .optional(),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .max(limits.stepTimeoutMaxMs)
      .default(10_000)
      .describe('Bound on the whole call, redirects included; the step timeout still applies.'),
    maxResponseBytes: z
      .number()
      .int()
      .positive()
      .max(10 * mib)
      .default(mib),
    truncate: z
      .boolean()
      .default(false)
      .describe(
        'Keep the first maxResponseBytes of a longer body (truncated: true) instead of failing.',
      ),
    idempotent: z
      .boolean()
      .default(false)
      .describe(
        'Set when the remote honours the Idempotency-Key header; then POST and PATCH are retried like PUT.',
      ),
  })
  .refine((i) => i.body === undefined || (i.method !== 'GET' && i.method !== 'HEAD'), {
    message: 'GET and HEAD requests take no body',
    path: ['body'],
  });
export type HttpRequestInput = z.output<typeof HttpRequestInput>;

export const HttpRequestOutput = z.object({
  status: z.number().int(),
  /** A safe subset: content type and length, caching, rate-limit and request-id headers. */
  headers: z.record(z.string(), z.string()),
  body: z.string(),
  truncated: z.boolean(),
  durationMs: z.number().nonnegative(),
  /** Final URL after redirects, without credentials. */
  url: z.string(),
});
export type HttpRequestOutput = z.output<typeof HttpRequestOutput>;

export interface HttpRequestToolOptions {
  guard: UrlGuard;
  /** Per-origin circuit breakers, shared with other tools. @default createOriginCircuits() */
  circuits?: OriginCircuits;
  /** Monotonic milliseconds, for `durationMs`. @default performance.now */
  now?: () => number;
}

/**
 * `http.request`: one HTTP(S) call through the SSRF guard (every redirect hop vetted, at most 5),
 * bounded in time and response size, under the circuit of the URL's origin. 4xx/5xx become
 * AppErrors (see `httpStatusError`); non-GET requests carry `Idempotency-Key: ctx.idempotencyKey`.
 * The tool never retries: the step does, and only what {@link withRetrySafety} leaves retryable
 * (a POST or PATCH only when it certainly was not processed, unless `idempotent`).
 */
export function createHttpRequestTool(
  options: HttpRequestToolOptions,
): ToolDefinition<HttpRequestInput, HttpRequestOutput> {
  const client = createGuardedHttpClient({
    guard: options.guard,
    ...(options.now ? { now: options.now } : {}),
  });
  const circuits = options.circuits ?? createOriginCircuits();
  return defineTool({
    name: 'http.request',
    description:
      'Send one HTTP request to an allowed public URL and return status, selected headers and body text. Non-GET requests carry an Idempotency-Key; a failed POST or PATCH is retried only when it certainly was not processed, unless idempotent is set.',
    input: HttpRequestInput,
    output: HttpRequestOutput,
    risk: 'medium',
    estimatedMs: 1_000,
    async run(input, ctx) {
      const headers: Record<string, string> = { ...input.headers };
      let body: string | undefined;
      if (input.body !== undefined) {
        body = typeof input.body === 'string' ? input.body : JSON.stringify(input.body);
        const hasType = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
        if (!hasType) {
          headers['content-type'] =
            typeof input.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
        }
      }
      const send = (signal: AbortSignal) =>
        client.request({
          url: input.url,
          method: input.method,
          headers,
          ...(body === undefined ? {} : { body }),
          timeoutMs: input.timeoutMs,
          maxResponseBytes: input.maxResponseBytes,
          truncate: input.truncate,
          idempotencyKey: ctx.idempotencyKey,
          signal,
        });
      const response = await circuits.execute(input.url, send, ctx.signal).catch((e: unknown) => {
        throw withRetrySafety(toAppError(e), input.method, input.idempotent);
      });
      ctx.log.debug(
        { status: response.status, durationMs: response.durationMs, url: response.url },
        'http.request done',
      );
      return response;
    },
  });
}
