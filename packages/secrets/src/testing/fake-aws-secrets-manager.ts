import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './listen-on-loopback';
import type { Socket } from 'node:net';
import { createFakeSecretsState, FakeAwsError } from './fake-aws-secrets-state';

/**
 * An outage to inject: `'500'` InternalServiceError, `'throttle'` ThrottlingException (400),
 * `'denied'` AccessDeniedException (400), `'hang'` no answer, `'reset'` the connection cut.
 */
export type FakeAwsFailure = '500' | 'throttle' | 'denied' | 'hang' | 'reset';

/** A request as the fake received it. The secret value is never recorded. */
export interface FakeAwsRequest {
  /** From `X-Amz-Target: secretsmanager.<Operation>`; `''` when absent. */
  operation: string;
  secretId?: string;
  /** From the SigV4 `Credential=` scope, when signed. */
  accessKeyId?: string;
  /** The HTTP status answered; undefined while hung or after a reset. */
  status?: number;
}

export interface FakeAwsSecretsManagerOptions {
  /** Port on 127.0.0.1. @default 0, an ephemeral port */
  port?: number;
  /** The region in ARNs and the one the SigV4 scope must name. @default 'us-east-1' */
  region?: string;
  /** @default '123456789012' */
  accountId?: string;
  /** Access key ids accepted; others get UnrecognizedClientException. @default any */
  accessKeyIds?: readonly string[];
  /** The clock for CreatedDate. @default () => new Date() */
  now?: () => Date;
}

export interface FakeAwsSecretsManager extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`: the client's `endpoint`. */
  readonly url: string;
  readonly port: number;
  readonly region: string;
  /** Every request so far, oldest first. */
  readonly requests: readonly FakeAwsRequest[];
  /** Requests received, of one operation (e.g. `'GetSecretValue'`) or all. */
  requestCount(operation?: string): number;
  /** Hung requests whose connection is still open (0 once every caller has given up). */
  openHungRequests(): number;
  /** Create `name` with one AWSCURRENT version; returns its ARN and VersionId. */
  seed(name: string, secretString: string): { arn: string; versionId: string };
  /**
   * Answer requests (of `operation` only, and the next `times` only, when given) with `mode`;
   * `undefined` clears it.
   */
  fail(mode: FakeAwsFailure | undefined, options?: { operation?: string; times?: number }): void;
  /** Stop listening and cut every connection, hung ones too. Safe to call twice. */
  close(): Promise<void>;
}

const target = 'secretsmanager.';
const contentType = 'application/x-amz-json-1.1';
const maxBodyBytes = 1 << 20;
/** `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, SignedHeaders=…` */
const sigV4 = new RegExp(
  '^AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/([^/]+)/aws4_request, ?' +
    'SignedHeaders=[a-z0-9;-]+, ?Signature=[0-9a-f]{64}$',
);

/**
 * A real HTTP server on 127.0.0.1 speaking the AWS JSON 1.1 protocol of Secrets Manager, as SDK v3
 * sends it: `POST /`, `X-Amz-Target: secretsmanager.<Operation>`, JSON bodies, errors as HTTP
 * 4xx/5xx with `{"__type": "<Code>", "message": "…"}` and an `x-amzn-errortype` header. Serves
 * CreateSecret, GetSecretValue, PutSecretValue, UpdateSecretVersionStage and DescribeSecret.
 * Requires a well-formed SigV4 `Authorization` header (the signature itself is not checked).
 */
export async function startFakeAwsSecretsManager(
  options: FakeAwsSecretsManagerOptions = {},
): Promise<FakeAwsSecretsManager> {
  const { region = 'us-east-1', accountId = '123456789012', accessKeyIds } = options;
  const state = createFakeSecretsState({
    region,
    accountId,
    now: options.now ?? (() => new Date()),
  });
  const requests: FakeAwsRequest[] = [];
  const hung = new Set<Socket>();
  let failure: { mode: FakeAwsFailure; operation?: string; left: number } | undefined;

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    const amzTarget = header(req, 'x-amz-target') ?? '';
    const operation = amzTarget.startsWith(target) ? amzTarget.slice(target.length) : '';
    const input = parseInput(text);
    const recorded: FakeAwsRequest = { operation };
    const secretId = input?.SecretId ?? input?.Name;
    if (typeof secretId === 'string') recorded.secretId = secretId;
    requests.push(recorded);
    const reply = (status: number, body: Record<string, unknown>) => {
      recorded.status = status;
      send(res, status, body);
    };
    const replyError = (error: FakeAwsError) =>
      reply(error.status, { __type: error.type, message: error.message });

    const auth = checkSignature(req, region, accessKeyIds);
    if (auth instanceof FakeAwsError) return replyError(auth);
    recorded.accessKeyId = auth;

    const mode = takeFailure(operation);
    if (mode === 'hang') {
      hung.add(req.socket);
      req.socket.once('close', () => hung.delete(req.socket));
      return;
    }
    if (mode === 'reset') return void req.socket.destroy();
    if (mode !== undefined) return replyError(failureError(mode));

    if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/') {
      return replyError(new FakeAwsError('UnknownOperationException', 'Only POST / is served.'));
    }
    if (!(header(req, 'content-type') ?? '').startsWith(contentType) || input === undefined) {
      return replyError(
        new FakeAwsError('SerializationException', `Expected a JSON object as ${contentType}.`),
      );
    }
    const run = state.operations[operation];
    if (run === undefined) {
      return replyError(
        new FakeAwsError('UnknownOperationException', `Unknown operation ${operation}.`),
      );
    }
    try {
      reply(200, run(input));
    } catch (error) {
      if (error instanceof FakeAwsError) return replyError(error);
      reply(500, { __type: 'InternalServiceError', message: 'The fake failed.' });
    }
  }

  function takeFailure(operation: string): FakeAwsFailure | undefined {
    if (failure === undefined) return undefined;
    if (failure.operation !== undefined && failure.operation !== operation) return undefined;
    const { mode } = failure;
    failure.left -= 1;
    if (failure.left <= 0) failure = undefined;
    return mode;
  }

  const { port, close } = await listenOnLoopback(server, options.port ?? 0);

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    region,
    requests,
    requestCount: (operation) =>
      operation === undefined
        ? requests.length
        : requests.filter((r) => r.operation === operation).length,
    openHungRequests: () => hung.size,
    seed: (name, secretString) => state.seed(name, secretString),
    fail: (mode, { operation, times = Infinity } = {}) => {
      failure = mode === undefined ? undefined : { mode, operation, left: times };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * The access key id of a well-formed SigV4 request, or the error AWS answers: a missing or
 * malformed header is IncompleteSignatureException, a scope for another region or service is
 * InvalidSignatureException, an unknown key UnrecognizedClientException.
 */
function checkSignature(
  req: IncomingMessage,
  region: string,
  accessKeyIds: readonly string[] | undefined,
): string | FakeAwsError {
  const authorization = header(req, 'authorization');
  const match = authorization === undefined ? null : sigV4.exec(authorization);
  if (match === null || header(req, 'x-amz-date') === undefined) {
    return new FakeAwsError(
      'IncompleteSignatureException',
      'Authorization header requires Credential, SignedHeaders and Signature, and X-Amz-Date.',
    );
  }
  const [, accessKeyId = '', , scopeRegion, service] = match;
  if (scopeRegion !== region || service !== 'secretsmanager') {
    return new FakeAwsError(
      'InvalidSignatureException',
      `Credential should be scoped to a valid region and service, not '${scopeRegion}/${service}'.`,
    );
  }
  if (accessKeyIds !== undefined && !accessKeyIds.includes(accessKeyId)) {
    return new FakeAwsError(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }
  return accessKeyId;
}

function failureError(mode: '500' | 'throttle' | 'denied'): FakeAwsError {
  switch (mode) {
    case '500':
      return new FakeAwsError('InternalServiceError', 'An error occurred on the server side.', 500);
    case 'throttle':
      return new FakeAwsError('ThrottlingException', 'Rate exceeded');
    case 'denied':
      return new FakeAwsError(
        'AccessDeniedException',
        'User is not authorized to perform this operation on this resource.',
      );
  }
}

function parseInput(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text === '' ? '{}' : text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  };
  if (typeof body.__type === 'string') headers['x-amzn-errortype'] = body.__type;
  res.writeHead(status, headers);
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
