import {
  disabledTracing,
  openTracing,
  TracingMetrics,
  type Logger,
  type Tracing,
} from '@agentry/observability';
import { AppError, type CommonConfig } from '@agentry/schema';
import type { Registry } from 'prom-client';
import type { Scrubber, SecretStore } from '@agentry/secrets';

/**
 * The process's tracing as configured: off (the default), or OTLP/HTTP to the collector, with its
 * request headers (a vendor's API key) read from the secret store before each export.
 */
export async function openFleetTracing(
  config: CommonConfig,
  options: {
    component: string;
    registry: Registry;
    log: Logger;
    scrubber: Scrubber;
    secrets: SecretStore;
  },
): Promise<Tracing> {
  const settings = config.tracing;
  // Registered with tracing off too, so every process's catalog of metrics is the same.
  new TracingMetrics(options.registry);
  if (settings.exporter === 'off') return disabledTracing;
  const { headersRef } = settings;
  // Resolve once now: a bad reference stops the process at start-up, not at the first export.
  if (headersRef !== undefined) parseHeaders(await options.secrets.get(headersRef), headersRef);
  const tracing = openTracing({
    serviceName: `agentry-${options.component}`,
    endpoint: settings.endpoint,
    timeoutMs: settings.timeoutMs,
    sampleRatio: settings.sampleRatio,
    environment: config.env,
    registry: options.registry,
    log: options.log,
    scrub: options.scrubber.scrub,
    ...(headersRef === undefined
      ? {}
      : { headers: async () => parseHeaders(await options.secrets.get(headersRef), headersRef) }),
  });
  options.log.info(
    { endpoint: settings.endpoint, sampleRatio: settings.sampleRatio },
    'tracing on: spans are exported over OTLP/HTTP',
  );
  return tracing;
}

/** `name=value,name2=value2` (OTEL_EXPORTER_OTLP_HEADERS' format, values URL-encoded). */
export function parseHeaders(text: string, ref: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    const name = at > 0 ? pair.slice(0, at).trim() : '';
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) {
      // Name the reference, never the value: it is a credential.
      throw new AppError('VALIDATION', `${ref}: expected name=value pairs separated by commas`);
    }
    try {
      headers[name.toLowerCase()] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      throw new AppError('VALIDATION', `${ref}: the value of header ${name} is not URL-encoded`);
    }
  }
  return headers;
}
