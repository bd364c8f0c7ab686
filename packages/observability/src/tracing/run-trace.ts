import { createHash } from 'node:crypto';

/** A span's identity as W3C Trace Context carries it. */
export interface TraceIds {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The trace of a run: its id is the run id without dashes, so an operator finds a run's trace by
 * the run id alone, and every process puts its spans in the same trace without asking anyone.
 */
export function runTraceId(runId: string): string {
  const hex = runId.replaceAll('-', '').toLowerCase();
  if (/^[0-9a-f]{32}$/.test(hex) && !/^0+$/.test(hex)) return hex;
  return createHash('sha256').update(runId).digest('hex').slice(0, 32);
}

/** The id of a run's root span (`agentry.run`), derived from the run id like the trace id. */
export function runRootSpanId(runId: string): string {
  return createHash('sha256').update(`agentry.run:${runId}`).digest('hex').slice(0, 16);
}

/** `00-<trace id>-<span id>-<flags>` (W3C Trace Context, version 00). */
export function formatTraceparent(ids: TraceIds): string {
  return `00-${ids.traceId}-${ids.spanId}-${ids.sampled ? '01' : '00'}`;
}

/** Read a W3C `traceparent`; undefined when it is malformed (version ff, all-zero ids). */
export function parseTraceparent(value: string | undefined): TraceIds | undefined {
  const m = value === undefined ? null : traceparentPattern.exec(value.trim());
  if (!m) return undefined;
  const [, version = '', traceId = '', spanId = '', flags = ''] = m;
  if (version === 'ff' || /^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}
