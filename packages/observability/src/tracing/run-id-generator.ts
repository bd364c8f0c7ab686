import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import { RandomIdGenerator } from '@opentelemetry/sdk-trace-base';

/**
 * Random ids, except for the one span started inside `withIds`: a run's root span, whose trace and
 * span ids are derived from the run id (span creation is synchronous, so nothing interleaves).
 */
export class RunIdGenerator implements IdGenerator {
  readonly #random = new RandomIdGenerator();
  #next: { traceId: string; spanId: string } | undefined;

  generateTraceId(): string {
    return this.#next?.traceId ?? this.#random.generateTraceId();
  }

  generateSpanId(): string {
    return this.#next?.spanId ?? this.#random.generateSpanId();
  }

  withIds<T>(ids: { traceId: string; spanId: string }, start: () => T): T {
    this.#next = ids;
    try {
      return start();
    } finally {
      this.#next = undefined;
    }
  }
}
