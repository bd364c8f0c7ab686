import { Counter, type Registry } from 'prom-client';
import { getOrCreateMetric } from '../get-or-create-metric';

/**
 * `agentry_tracing_spans_exported_total{outcome}` — spans handed to the OTLP collector, `ok` or
 * `failed` (the exporter's own bounded retries included). Always registered: 0 with tracing off.
 */
export class TracingMetrics {
  readonly #spans: Counter<'outcome'>;

  constructor(registry: Registry) {
    this.#spans = getOrCreateMetric(registry, Counter<'outcome'>, {
      name: 'agentry_tracing_spans_exported_total',
      help: 'Spans sent to the OpenTelemetry collector, by outcome (ok, failed).',
      labelNames: ['outcome'],
    });
  }

  exported(outcome: 'ok' | 'failed', spans: number): void {
    this.#spans.inc({ outcome }, spans);
  }
}
