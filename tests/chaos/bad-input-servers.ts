import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer, isIP, type AddressInfo, type Server, type Socket } from 'node:net';

/** Every TCP connection a sentinel accepted: where from, on which of its addresses. */
export interface SentinelConnection {
  local: string;
  remote: string;
}

/**
 * A TCP listener on 127.0.0.1 (and ::1 when the host has IPv6 loopback) that records every
 * connection and closes it at once: the address an SSRF attempt would reach. `0.0.0.0:<port>`
 * also lands here on Linux.
 */
export interface Sentinel {
  readonly port: number;
  /** The port on ::1, or undefined without IPv6 loopback. */
  readonly port6: number | undefined;
  readonly connections: readonly SentinelConnection[];
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    for (const socket of sockets) socket.destroy();
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

export async function startSentinel(): Promise<Sentinel> {
  const connections: SentinelConnection[] = [];
  const sockets = new Set<Socket>();
  const make = (): Server =>
    createServer((socket) => {
      connections.push({
        local: `${socket.localAddress ?? '?'}:${socket.localPort ?? '?'}`,
        remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
      });
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.destroy();
    });
  const v4 = make();
  const port = await listen(v4, 0, '127.0.0.1');
  const v6 = make();
  let port6: number | undefined;
  try {
    // The same port when free, so `[::1]:<port>` and `127.0.0.1:<port>` are both watched.
    port6 = await listen(v6, port, '::1').catch(() => listen(v6, 0, '::1'));
  } catch {
    port6 = undefined;
  }
  return {
    port,
    port6,
    connections,
    close: async () => {
      await Promise.all([closeServer(v4, sockets), closeServer(v6, sockets)]);
    },
  };
}

/** A request an {@link Origin} received. */
export interface OriginRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * The one origin the redirect cases allowlist: an HTTP server on a loopback address other than
 * the sentinel's. `GET /redirect?to=<url>` answers `302 Location: <url>`; anything else 200.
 */
export interface Origin {
  readonly host: string;
  readonly port: number;
  /** `http://<host>:<port>` */
  readonly url: string;
  readonly requests: readonly OriginRequest[];
  /** `<url>/redirect?to=<target>` */
  redirectTo(target: string): string;
  close(): Promise<void>;
}

export async function startOrigin(host: string): Promise<Origin> {
  const requests: OriginRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      requests.push({
        method: req.method ?? 'GET',
        url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const to = new URL(url, 'http://origin.invalid').searchParams.get('to');
      if (to !== null) res.writeHead(302, { location: to }).end();
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('origin ok');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server, 0, host);
  const url = `http://${host}:${port}`;
  return {
    host,
    port,
    url,
    requests,
    redirectTo: (target) => `${url}/redirect?to=${encodeURIComponent(target)}`,
    close: () => closeServer(server, sockets),
  };
}

/**
 * Names in /etc/hosts other than `localhost` that resolve to loopback addresses only (`vm`,
 * `runsc` in some sandboxes); at most `max`. Empty when there are none: nothing needs a network.
 */
export async function loopbackHostNames(max = 2): Promise<string[]> {
  const text = await readFile('/etc/hosts', 'utf8').catch(() => '');
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const [address, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (address === undefined || !/^(127\.|::1$)/.test(address)) continue;
    for (const name of aliases)
      if (/^[a-z][a-z0-9-]{0,30}$/.test(name) && name !== 'localhost') names.add(name);
  }
  const usable: string[] = [];
  for (const name of names) {
    const found = await lookup(name, { all: true }).catch(() => []);
    const loopbackOnly =
      found.length > 0 &&
      found.every((a) => isIP(a.address) !== 0 && /^(127\.|::1$)/.test(a.address));
    if (loopbackOnly) usable.push(name);
    if (usable.length >= max) break;
  }
  return usable;
}
