import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { TracingMetrics } from './tracing-metrics';

/** The exporter with its outcomes counted, and logged once when exports start and stop failing. */
export function countedExporter(
  inner: SpanExporter,
  metrics: TracingMetrics,
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void },
  endpoint: string,
): SpanExporter {
  let failing = false;
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
      inner.export(spans, (result) => {
        const ok = result.code === ExportResultCode.SUCCESS;
        metrics.exported(ok ? 'ok' : 'failed', spans.length);
        if (!ok && !failing) {
          log.warn(
            { endpoint, spans: spans.length, reason: result.error?.message },
            'traces not exported: the collector did not take them (spans are dropped until it does)',
          );
        } else if (ok && failing) {
          log.info({ endpoint }, 'traces exported again');
        }
        failing = !ok;
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}
