import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the sink knows about one idempotency key (one step's side effect). */
export interface EffectRecord {
  key: string;
  /** The logical effect the body names (`effect`, or `payload.effect` for webhook.notify). */
  effect: string;
  /** Requests that carried this key: the first applied the effect, the rest were retries. */
  deliveries: number;
  /** `x-chaos-worker` of each delivery, in order (`?` when the request did not say). */
  workers: string[];
  firstAt: number;
  lastAt: number;
  /** Deliveries whose body named another effect than the first: a key reused for something else. */
  conflicting: number;
}

/** Totals of {@link EffectSink.report}; see docs/reliability.md for the model. */
export interface SinkReport {
  /** Requests received (every delivery of every key, plus unkeyed ones). */
  deliveries: number;
  /** Distinct idempotency keys = effects applied (a deduping sink applies each key once). */
  applied: number;
  /** Deliveries of a key already applied: at-least-once retries the dedupe absorbed. */
  retriedDeliveries: number;
  /** Retried deliveries that came from another worker than the key's first delivery. */
  retriedByAnotherWorker: number;
  /** Logical effects applied under more than one key: a side effect that happened twice. */
  duplicateEffects: number;
  /** Keys whose deliveries named different effects. */
  conflictingKeys: number;
  /** Requests without an Idempotency-Key (the tools always send one for POST). */
  unkeyed: number;
  /** Requests carrying `x-agentry-signature`, and how many of those did not verify. */
  signed: number;
  badSignatures: number;
}

export interface EffectSink {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  records: ReadonlyMap<string, EffectRecord>;
  /** Requests received and not yet answered (the step is mid-call), by `x-chaos-worker`. */
  inFlight(worker?: string): number;
  /** Resolve once `test` holds for a new delivery (or one already recorded). */
  waitForDelivery(test: (r: EffectRecord) => boolean, timeoutMs?: number): Promise<EffectRecord>;
  report(): SinkReport;
  close(): Promise<void>;
}

export interface EffectSinkOptions {
  /** Key the `x-agentry-signature` header (webhook.notify) is checked against. */
  signingKey?: string;
}

/**
 * A side-effect sink on 127.0.0.1, standing in for the remote systems steps act on. It behaves as
 * a correct idempotent receiver: the first request with an `Idempotency-Key` applies the effect
 * at once (before answering, as a server that commits then answers slowly), later requests with
 * the same key are answered as the same result without applying anything again. Every delivery
 * is recorded, so a test can tell "applied once" from "delivered once".
 *
 * `?delayMs=N` holds the answer N ms, so a step is mid-call when its worker is killed;
 * `&retryDelayMs=M` holds the answers to later deliveries of a key M ms instead. The answer is
 * JSON `{ applied, deliveries }`. A client that goes away before the answer is fine.
 */
export async function startEffectSink(options: EffectSinkOptions = {}): Promise<EffectSink> {
  const records = new Map<string, EffectRecord>();
  const byEffect = new Map<string, Set<string>>();
  const open = new Map<ServerResponse, string>();
  let waiters: Array<{ test: (r: EffectRecord) => boolean; resolve: (r: EffectRecord) => void }> =
    [];
  const totals = { deliveries: 0, unkeyed: 0, signed: 0, badSignatures: 0 };

  const verify = (raw: Buffer, header: string | undefined): void => {
    if (header === undefined) return;
    totals.signed += 1;
    const expected = `sha256=${createHmac('sha256', options.signingKey ?? '')
      .update(raw)
      .digest('hex')}`;
    const ok =
      header.length === expected.length &&
      timingSafeEqual(Buffer.from(header), Buffer.from(expected));
    if (!ok) totals.badSignatures += 1;
  };

  const record = (key: string, effect: string, worker: string): EffectRecord => {
    const now = Date.now();
    let r = records.get(key);
    if (r) {
      r.deliveries += 1;
      r.workers.push(worker);
      r.lastAt = now;
      if (r.effect !== effect) r.conflicting += 1;
    } else {
      r = {
        key,
        effect,
        deliveries: 1,
        workers: [worker],
        firstAt: now,
        lastAt: now,
        conflicting: 0,
      };
      records.set(key, r);
      const keys = byEffect.get(effect) ?? new Set<string>();
      keys.add(key);
      byEffect.set(effect, keys);
    }
    const seen = r;
    waiters = waiters.filter((w) => (w.test(seen) ? (w.resolve(seen), false) : true));
    return r;
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    totals.deliveries += 1;
    const url = new URL(req.url ?? '/', 'http://sink');
    const worker = header(req, 'x-chaos-worker') ?? '?';
    verify(raw, header(req, 'x-agentry-signature'));
    const key = header(req, 'idempotency-key');
    let answer: Record<string, unknown> = { applied: false, deliveries: 0 };
    if (key === undefined) totals.unkeyed += 1;
    else {
      const r = record(key, effectOf(raw), worker);
      answer = { applied: r.deliveries === 1, deliveries: r.deliveries };
    }
    const retried = answer.deliveries !== undefined && Number(answer.deliveries) > 1;
    const delayMs = Number(
      (retried ? url.searchParams.get('retryDelayMs') : null) ??
        url.searchParams.get('delayMs') ??
        0,
    );
    open.set(res, worker);
    res.on('close', () => open.delete(res));
    const reply = (): void => {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    };
    if (delayMs > 0) setTimeout(reply, delayMs).unref();
    else reply();
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
    req.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    records,
    inFlight: (worker) =>
      [...open.values()].filter((w) => worker === undefined || w === worker).length,
    waitForDelivery(test, timeoutMs = 30_000) {
      const seen = [...records.values()].find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('sink: no such delivery in time')),
          timeoutMs,
        );
        waiters.push({
          test,
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
        });
      });
    },
    report() {
      const all = [...records.values()];
      const applied = all.length;
      const delivered = all.reduce((n, r) => n + r.deliveries, 0);
      return {
        deliveries: totals.deliveries,
        applied,
        retriedDeliveries: delivered - applied,
        retriedByAnotherWorker: all.reduce(
          (n, r) => n + r.workers.slice(1).filter((w) => w !== r.workers[0]).length,
          0,
        ),
        duplicateEffects: [...byEffect.values()].filter((keys) => keys.size > 1).length,
        conflictingKeys: all.filter((r) => r.conflicting > 0).length,
        unkeyed: totals.unkeyed,
        signed: totals.signed,
        badSignatures: totals.badSignatures,
      };
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The effect a body names: `{ effect }` (http.request) or `{ payload: { effect } }` (webhook). */
function effectOf(raw: Buffer): string {
  try {
    const body = JSON.parse(raw.toString('utf8')) as {
      effect?: unknown;
      payload?: { effect?: unknown };
    };
    const effect = body.effect ?? body.payload?.effect;
    return typeof effect === 'string' ? effect : '?';
  } catch {
    return '?';
  }
}
