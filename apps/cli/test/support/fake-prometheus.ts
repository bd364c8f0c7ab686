import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { evaluate, parseExpr, type Series, type Value } from '../../../../tests/ops/promql';

/** What the fake does instead of answering: see {@link FakePrometheus.inject}. */
export type PrometheusFault =
  /** Answer with this status and body (default: an HTML error page). */
  | { kind: 'status'; status: number; body?: string }
  /** Never answer (the request stays open until the client gives up or the fake closes). */
  | { kind: 'hang' }
  /** Answer 200 with a body that is not the API's JSON. */
  | { kind: 'garbage' }
  /** Close the connection without an answer. */
  | { kind: 'reset' };

/** One request the fake received. */
export interface PrometheusRequest {
  path: string;
  query: string | undefined;
  /** The `time` parameter, unix seconds. */
  time: number | undefined;
  authorization: string | undefined;
  /** What the fake did: the status sent, or the fault's kind. */
  outcome: number | 'hang' | 'reset';
}

/** A fake Prometheus HTTP API on 127.0.0.1 (see {@link startFakePrometheus}). */
export interface FakePrometheus {
  url: string;
  /**
   * Serve `series`: a sample at `t` (ms from the recording's start) is at unix time
   * `startMs + t`. Replaces what was recorded before.
   */
  record(series: readonly Series[], startMs: number): void;
  /** The next `times` requests get `fault` instead of an answer (default once). */
  inject(fault: PrometheusFault, times?: number): void;
  /** Every request gets `fault` until {@link heal}. */
  breakDown(fault: PrometheusFault): void;
  heal(): void;
  /** Answer 401 to requests without `Authorization: Bearer <token>` (undefined: no auth). */
  requireBearer(token: string | undefined): void;
  /** Every request received, in order. */
  readonly requests: PrometheusRequest[];
  close(): Promise<void>;
}

/** Prometheus's text of a float: `NaN`, `+Inf`, `-Inf`, or the shortest decimal. */
function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function resultOf(value: Value, time: number) {
  switch (value.kind) {
    case 'vector':
      return {
        resultType: 'vector',
        result: value.samples.map((s) => ({ metric: s.labels, value: [time, formatFloat(s.v)] })),
      };
    case 'scalar':
      return { resultType: 'scalar', result: [time, formatFloat(value.v)] };
    case 'string':
      return { resultType: 'string', result: [time, value.s] };
    case 'matrix':
      return {
        resultType: 'matrix',
        result: value.series.map((s) => ({
          metric: s.labels,
          values: s.samples.map((p) => [p.t / 1_000, formatFloat(p.v)]),
        })),
      };
  }
}

/**
 * Start a fake Prometheus on 127.0.0.1: `GET|POST /api/v1/query` evaluates the query with the
 * repository's PromQL evaluator (tests/ops/promql) over recorded series at the request's `time`
 * (default now), and answers as Prometheus does (`status: success|error`, `errorType`, 400 for a
 * query it cannot parse, 422 for one it cannot evaluate). Faults can be injected per request.
 */
export async function startFakePrometheus(): Promise<FakePrometheus> {
  let series: readonly Series[] = [];
  let startMs = Date.now();
  const faults: PrometheusFault[] = [];
  let brokenWith: PrometheusFault | undefined;
  let bearer: string | undefined;
  const requests: PrometheusRequest[] = [];

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
    return status;
  };

  const answer = (req: IncomingMessage, res: ServerResponse, params: URLSearchParams) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const fault = faults.shift() ?? brokenWith;
    if (fault?.kind === 'hang') return 'hang' as const;
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return 'reset' as const;
    }
    if (fault?.kind === 'garbage') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Sign in to continue</body></html>');
      return 200;
    }
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, { 'content-type': 'text/html' });
      res.end(fault.body ?? `<html><body>${fault.status} from the fake</body></html>`);
      return fault.status;
    }
    if (bearer !== undefined && req.headers.authorization !== `Bearer ${bearer}`) {
      return send(res, 401, { status: 'error', errorType: 'unauthorized', error: 'no token' });
    }
    if (path !== '/api/v1/query') return send(res, 404, { status: 'error', error: 'not found' });
    const query = params.get('query');
    if (query === null) {
      return send(res, 400, { status: 'error', errorType: 'bad_data', error: 'no query' });
    }
    const time = params.has('time') ? Number(params.get('time')) : Date.now() / 1_000;
    let expr;
    try {
      expr = parseExpr(query);
    } catch (e) {
      return send(res, 400, { status: 'error', errorType: 'bad_data', error: String(e) });
    }
    try {
      const value = evaluate(expr, series, time * 1_000 - startMs);
      return send(res, 200, { status: 'success', data: resultOf(value, time) });
    } catch (e) {
      return send(res, 422, { status: 'error', errorType: 'execution', error: String(e) });
    }
  };

  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const params = new URL(req.url ?? '/', 'http://x').searchParams;
      if (req.method === 'POST') {
        for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
      }
      const outcome = answer(req, res, params);
      const time = params.get('time');
      requests.push({
        path: new URL(req.url ?? '/', 'http://x').pathname,
        query: params.get('query') ?? undefined,
        time: time === null ? undefined : Number(time),
        authorization: req.headers.authorization,
        outcome,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    record(recorded, start) {
      series = recorded;
      startMs = start;
    },
    inject(fault, times = 1) {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    breakDown(fault) {
      brokenWith = fault;
    },
    heal() {
      brokenWith = undefined;
      faults.length = 0;
    },
    requireBearer(token) {
      bearer = token;
    },
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
