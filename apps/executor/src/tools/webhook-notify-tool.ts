import { AppError, toAppError, toError } from '@agentry/schema';
import { z } from 'zod';
import { createGuardedHttpClient } from './guarded-http-client';
import { createOriginCircuits, type OriginCircuits } from './origin-circuits';
import { withRetrySafety } from './retry-safety';
import { defineTool, type ToolDefinition } from './tool';
import type { UrlGuard } from './url-guard';

export const WebhookNotifyInput = z.strictObject({
  url: z.url().max(8_192),
  event: z.string().min(1).max(200),
  payload: z.record(z.string(), z.json()),
  idempotent: z
    .boolean()
    .default(true)
    .describe(
      'Whether the receiver dedupes deliveries by their Idempotency-Key header, as webhook receivers conventionally do; set false for one that does not: then a failed delivery is retried only when it certainly did not arrive.',
    ),
});
export type WebhookNotifyInput = z.output<typeof WebhookNotifyInput>;

export const WebhookNotifyOutput = z.object({
  delivered: z.literal(true),
  status: z.number().int(),
});
export type WebhookNotifyOutput = z.output<typeof WebhookNotifyOutput>;

/** Returns the hex signature of a body (e.g. {@link createHmacSigner}). */
export type WebhookSigner = (body: string) => Promise<string> | string;

export interface WebhookNotifyToolOptions {
  guard: UrlGuard;
  /** Signs each body; its hex result is sent as `X-Agentry-Signature: sha256=<hex>`. */
  sign?: WebhookSigner;
  /** For `sentAt`. @default () => new Date() */
  clock?: () => Date;
  /** Bound on one delivery. @default 10000 */
  timeoutMs?: number;
  /** Per-origin circuit breakers, shared with other tools. @default createOriginCircuits() */
  circuits?: OriginCircuits;
}

/** The whole response body is read up to this size, then dropped. */
const maxAnswerBytes = 64 * 1024;

/**
 * `webhook.notify`: POST `{ event, payload, runId, stepId, sentAt }` as JSON through the guarded
 * client, under the circuit of the URL's origin, with `Idempotency-Key: ctx.idempotencyKey`
 * (stable across retries, while `sentAt` and the signature are per attempt). Redirects are not
 * followed (a POST would turn into a GET); any status but 2xx is an AppError as for http.request.
 * Receivers are assumed to dedupe by that key (input `idempotent`, default true), so a failed
 * delivery is retried like a PUT; with `idempotent: false` it is retried only when it certainly
 * did not arrive (see `withRetrySafety`).
 */
export function createWebhookNotifyTool(
  options: WebhookNotifyToolOptions,
): ToolDefinition<WebhookNotifyInput, WebhookNotifyOutput> {
  const client = createGuardedHttpClient({ guard: options.guard });
  const circuits = options.circuits ?? createOriginCircuits();
  const clock = options.clock ?? (() => new Date());
  return defineTool({
    name: 'webhook.notify',
    description:
      'POST a JSON event { event, payload, runId, stepId, sentAt } to an allowed webhook URL, signed when a signing key is configured.',
    input: WebhookNotifyInput,
    output: WebhookNotifyOutput,
    risk: 'low',
    estimatedMs: 500,
    async run(input, ctx) {
      const body = JSON.stringify({
        event: input.event,
        payload: input.payload,
        runId: ctx.runId,
        stepId: ctx.stepId,
        sentAt: clock().toISOString(),
      });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (options.sign)
        headers['x-agentry-signature'] = `sha256=${await signBody(options.sign, body)}`;
      const send = (signal: AbortSignal) =>
        client.request({
          url: input.url,
          method: 'POST',
          headers,
          body,
          timeoutMs: options.timeoutMs ?? 10_000,
          maxResponseBytes: maxAnswerBytes,
          truncate: true,
          maxRedirects: 0,
          idempotencyKey: ctx.idempotencyKey,
          signal,
        });
      const response = await circuits.execute(input.url, send, ctx.signal).catch((e: unknown) => {
        throw withRetrySafety(toAppError(e), 'POST', input.idempotent);
      });
      if (response.status < 200 || response.status > 299) {
        throw new AppError('TOOL_FAILED', `webhook answered ${response.status}`, {
          retryable: false,
          details: { status: response.status, url: response.url },
        });
      }
      ctx.log.info(
        { event: input.event, status: response.status, url: response.url },
        'webhook delivered',
      );
      return { delivered: true as const, status: response.status };
    },
  });
}

async function signBody(sign: WebhookSigner, body: string): Promise<string> {
  try {
    return await sign(body);
  } catch (e) {
    // The key comes from the secrets manager; an outage there is worth another attempt.
    throw new AppError('UNAVAILABLE', 'could not sign the webhook body', { cause: toError(e) });
  }
}
