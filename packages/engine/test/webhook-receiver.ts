import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver took. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A webhook receiver on 127.0.0.1. */
export interface WebhookReceiver {
  received: Received[];
  /** The status of each next answer (then 200); 0 never answers. */
  statuses: number[];
  url: string;
  close(): Promise<void>;
}

/** Start a {@link WebhookReceiver} on a free port. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: Received[] = [];
  const statuses: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
      const status = statuses.shift() ?? 200;
      if (status === 0) return; // never answers
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    received,
    statuses,
    // The path is the credential, as in a Slack webhook URL.
    url: `http://127.0.0.1:${port}/services/T0001/B0001/s3cr3tHookPath`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
