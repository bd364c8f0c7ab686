import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface TestHttpServer {
  /** `http://127.0.0.1:<port>` (or `http://[::1]:<port>`), no trailing slash. */
  origin: string;
  port: number;
  /** Requests received, in order. */
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
  /** TCP connections accepted so far. */
  connections: number;
  /** Resolves when a connection the server accepted has closed. */
  nextClose(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real HTTP server on a loopback port chosen by the OS, for tests that must exercise the real
 * network stack. `handler` runs after the request body has been read.
 */
export async function startTestHttpServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  host: '127.0.0.1' | '::1' = '127.0.0.1',
): Promise<TestHttpServer> {
  const sockets = new Set<Socket>();
  const closeWaiters: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      handler(req, res);
    });
  });
  server.on('connection', (socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      closeWaiters.splice(0).forEach((w) => w());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const state: TestHttpServer = {
    origin: host === '::1' ? `http://[::1]:${port}` : `http://127.0.0.1:${port}`,
    port,
    requests: [],
    connections: 0,
    nextClose: () => new Promise<void>((resolve) => closeWaiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return state;
}
