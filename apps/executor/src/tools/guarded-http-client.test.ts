import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuardedHttpClient } from './guarded-http-client';
import { fakeLookup } from './testing/fake-lookup';
import { startTestHttpServer } from './testing/start-test-http-server';
import { createUrlGuard } from './url-guard';

const request = {
  method: 'GET' as const,
  timeoutMs: 5_000,
  maxResponseBytes: 1024,
  signal: new AbortController().signal,
};

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('createGuardedHttpClient', () => {
  it('does not judge a HEAD answer by its declared Content-Length', async () => {
    const server = await startTestHttpServer((_req, res) =>
      res.writeHead(200, { 'content-length': '999999' }).end(),
    );
    try {
      const client = createGuardedHttpClient({
        guard: createUrlGuard({ allowHosts: ['127.0.0.1'] }),
      });
      const response = await client.request({ ...request, url: server.origin, method: 'HEAD' });
      expect(response).toMatchObject({ status: 200, body: '', truncated: false });
    } finally {
      await server.close();
    }
  });

  // A throwaway self-signed certificate for `api.test`, made per run (no key in the repository).
  describe.skipIf(!hasOpenssl())('https', () => {
    let dir = '';
    let cert = '';
    let server: https.Server;
    let port = 0;
    const servernames: Array<string | false | null> = [];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'agentry-tls-'));
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=api.test',
          '-addext',
          'subjectAltName=DNS:api.test',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
        servernames.push((req.socket as TLSSocket).servername);
        res.end(`tls ok ${req.headers.host ?? ''}`);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });

    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    });

    it('connects to the vetted IP and verifies the certificate against the URL name (SNI)', async () => {
      const guard = createUrlGuard({
        allowHosts: ['api.test'],
        lookup: fakeLookup({ 'api.test': ['127.0.0.1'] }),
      });
      const client = createGuardedHttpClient({ guard, ca: cert });
      const response = await client.request({ ...request, url: `https://api.test:${port}/` });
      expect(response.body).toBe(`tls ok api.test:${port}`);
      expect(servernames).toContain('api.test');
    });

    it('refuses a certificate that does not match, without retry', async () => {
      const guard = createUrlGuard({ allowHosts: ['127.0.0.1'] });
      const client = createGuardedHttpClient({ guard, ca: cert });
      await expect(
        client.request({ ...request, url: `https://127.0.0.1:${port}/` }),
      ).rejects.toMatchObject({
        code: 'TOOL_FAILED',
        retryable: false,
      });
    });

    it('refuses an untrusted certificate, without retry', async () => {
      const guard = createUrlGuard({
        allowHosts: ['api.test'],
        lookup: fakeLookup({ 'api.test': ['127.0.0.1'] }),
      });
      const client = createGuardedHttpClient({ guard });
      await expect(
        client.request({ ...request, url: `https://api.test:${port}/` }),
      ).rejects.toMatchObject({
        code: 'TOOL_FAILED',
        retryable: false,
      });
    });
  });
});
