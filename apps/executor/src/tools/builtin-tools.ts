import { echoTool } from './echo-tool';
import { createHttpRequestTool } from './http-request-tool';
import type { ToolDefinition } from './tool';
import { createUrlGuard, type LookupAll } from './url-guard';
import { waitTool } from './wait-tool';
import { createWebhookNotifyTool, type WebhookSigner } from './webhook-notify-tool';

export interface BuiltinToolsOptions {
  /** Egress policy shared by http.request and webhook.notify (see `createUrlGuard`). */
  http: {
    allowHosts?: readonly string[];
    allowPrivate?: boolean;
    allowedPorts?: readonly number[];
  };
  /** Signs webhook bodies (e.g. `createHmacSigner(() => secrets.get('webhook-signing-key'))`). */
  sign?: WebhookSigner;
  /** DNS lookup override, for tests. @default dns.promises.lookup */
  lookup?: LookupAll;
}

/**
 * The tools every executor ships: http.request, webhook.notify, wait, echo. Throws a plain
 * Error for a malformed allowlist entry (a configuration mistake).
 */
export function builtinTools(options: BuiltinToolsOptions): ToolDefinition[] {
  const guard = createUrlGuard({
    ...options.http,
    ...(options.lookup ? { lookup: options.lookup } : {}),
  });
  return [
    createHttpRequestTool({ guard }),
    createWebhookNotifyTool({ guard, ...(options.sign ? { sign: options.sign } : {}) }),
    waitTool,
    echoTool,
  ];
}
