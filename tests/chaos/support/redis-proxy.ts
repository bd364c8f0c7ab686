import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A TCP proxy in front of Redis that can hold back the commands of named connections. */
export interface RedisProxy {
  /** `redis://127.0.0.1:<port>`, to give a process instead of the real Redis URL. */
  url: string;
  /**
   * From now on, commands sent on connections whose `CLIENT SETNAME` is `name` are swallowed:
   * they never reach Redis and get no answer (as a network partition would do to that socket).
   */
  hold(name: string): void;
  /** Commands swallowed so far. */
  held(): number;
  close(): Promise<void>;
}

/**
 * Start a {@link RedisProxy} to `target` (default the local Redis). Connections are named by the
 * `CLIENT SETNAME` ioredis sends on connect (agentry names its producer `<component>-producer`).
 */
export async function startRedisProxy(
  target: { host: string; port: number } = { host: '127.0.0.1', port: 6379 },
): Promise<RedisProxy> {
  const holding = new Set<string>();
  const sockets = new Set<Socket>();
  let swallowed = 0;
  const server = createServer((client) => {
    const upstream = connect(target);
    sockets.add(client).add(upstream);
    let name: string | undefined;
    let head = '';
    client.on('data', (chunk: Buffer) => {
      if (name === undefined && head.length < 4096) {
        head += chunk.toString('latin1');
        name = /SETNAME\r\n\$\d+\r\n([^\r]+)\r\n/i.exec(head)?.[1];
      }
      if (name !== undefined && holding.has(name)) swallowed += 1;
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    hold: (name) => void holding.add(name),
    held: () => swallowed,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
