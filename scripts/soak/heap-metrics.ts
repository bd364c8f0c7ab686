/** A process's V8 heap and external memory, from its own /metrics (prom-client default metrics). */
export interface HeapFigures {
  /** `nodejs_heap_size_used_bytes`: live objects plus garbage not yet collected. */
  heapUsedMb: number;
  /** `nodejs_heap_size_total_bytes`: what V8 has committed for the heap. */
  heapTotalMb: number;
  /** `nodejs_external_memory_bytes`: Buffers and other memory held outside the heap. */
  externalMb: number;
  /** Committed size of V8's young generation (`nodejs_heap_space_size_total_bytes{space="new"}`). */
  newSpaceMb: number;
  /** Committed size of V8's old generation (`…{space="old"}`). */
  oldSpaceMb: number;
}

const unknown: HeapFigures = {
  heapUsedMb: Number.NaN,
  heapTotalMb: Number.NaN,
  externalMb: Number.NaN,
  newSpaceMb: Number.NaN,
  oldSpaceMb: Number.NaN,
};

/**
 * Scrape `metricsUrl` (each agentry process serves Prometheus metrics, default Node ones
 * included) and read its heap figures: what RSS is made of, so a growing RSS can be told apart
 * into live heap, committed-but-free heap and external memory. Never throws (NaN when the
 * process does not answer within 2 s).
 */
export async function heapOf(metricsUrl: string): Promise<HeapFigures> {
  try {
    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(2_000) });
    const text = await res.text();
    const read = (name: string, labels = '[^}]*') =>
      Number(new RegExp(`^${name}(?:\\{${labels}\\})? ([0-9.e+]+)`, 'm').exec(text)?.[1]) / 2 ** 20;
    const space = (name: string) =>
      read('nodejs_heap_space_size_total_bytes', `[^}]*space="${name}"[^}]*`);
    return {
      heapUsedMb: read('nodejs_heap_size_used_bytes'),
      heapTotalMb: read('nodejs_heap_size_total_bytes'),
      externalMb: read('nodejs_external_memory_bytes'),
      newSpaceMb: space('new'),
      oldSpaceMb: space('old'),
    };
  } catch {
    return unknown;
  }
}
