import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A fake server listening on 127.0.0.1, and how to stop it. */
export interface LoopbackListener {
  port: number;
  /** Stop listening and cut every open connection (hung ones too). Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Listen on 127.0.0.1 (`port` 0: any free port), tracking connections so `close` can cut the
 * ones a fault left hanging. Rejects when the port cannot be bound.
 */
export async function listenOnLoopback(server: Server, port = 0): Promise<LoopbackListener> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
