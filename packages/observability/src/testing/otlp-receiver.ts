import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as an OTLP/HTTP JSON export carries it, flattened for assertions. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP span kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: { code: number; message?: string };
  events: Array<{ name: string; attributes: Record<string, string | number | boolean> }>;
  links: Array<{ traceId: string; spanId: string }>;
  startMs: number;
  endMs: number;
}

/** A local OpenTelemetry collector (OTLP/HTTP JSON) on 127.0.0.1 that can refuse exports. */
export interface OtlpReceiver {
  /** The traces URL to export to. */
  url: string;
  spans(): ReceivedSpan[];
  /** Every export request seen, accepted or refused. */
  requests(): number;
  /** Header values of the last request (lower-case names). */
  lastHeaders(): Record<string, string | string[] | undefined>;
  /** Answer the next `count` exports with `status` (e.g. 503) and drop their spans. */
  refuse(count: number, status?: number): void;
  /** Resolve once `predicate` holds for the spans received (polls every 50 ms). */
  waitFor(
    predicate: (spans: ReceivedSpan[]) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: OtlpAttribute[];
  status?: { code?: number; message?: string };
  events?: Array<{ name: string; attributes?: OtlpAttribute[] }>;
  links?: Array<{ traceId: string; spanId: string }>;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
}
interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
  }>;
}

const valueOf = (v: OtlpValue): string | number | boolean =>
  v.stringValue ?? v.boolValue ?? v.doubleValue ?? Number(v.intValue ?? Number.NaN);

const attributesOf = (list: OtlpAttribute[] = []): Record<string, string | number | boolean> =>
  Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

const ms = (nanos: string | number): number => Number(BigInt(nanos) / 1_000_000n);

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: ReceivedSpan[] = [];
  let requests = 0;
  let headers: Record<string, string | string[] | undefined> = {};
  let refusals: { count: number; status: number } = { count: 0, status: 503 };
  const server = createServer((req, res) => {
    void (async () => {
      const text = await body(req);
      requests += 1;
      headers = { ...req.headers };
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      if (refusals.count > 0) {
        refusals = { ...refusals, count: refusals.count - 1 };
        res.writeHead(refusals.status, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      const data = JSON.parse(text) as OtlpExport;
      for (const resource of data.resourceSpans ?? []) {
        const service = String(attributesOf(resource.resource?.attributes)['service.name'] ?? '');
        for (const scope of resource.scopeSpans ?? []) {
          for (const s of scope.spans ?? []) {
            received.push({
              service,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: s.kind,
              attributes: attributesOf(s.attributes),
              status: {
                code: s.status?.code ?? 0,
                ...(s.status?.message ? { message: s.status.message } : {}),
              },
              events: (s.events ?? []).map((e) => ({
                name: e.name,
                attributes: attributesOf(e.attributes),
              })),
              links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
              startMs: ms(s.startTimeUnixNano),
              endMs: ms(s.endTimeUnixNano),
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    })().catch(() => res.writeHead(400).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}/v1/traces`,
    spans: () => [...received],
    requests: () => requests,
    lastHeaders: () => headers,
    refuse(count, status = 503) {
      refusals = { count, status };
    },
    async waitFor(predicate, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > until) {
          const names = received.map((s) => s.name).join(', ');
          throw new Error(`spans not received within ${String(timeoutMs)} ms; have: ${names}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      return [...received];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
