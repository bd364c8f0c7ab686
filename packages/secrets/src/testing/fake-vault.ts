import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './listen-on-loopback';
import type { Socket } from 'node:net';
import type {
  FakeRoleOptions,
  FakeTokenOptions,
  FakeVault,
  FakeVaultFailure,
  FakeVaultOptions,
  FakeVaultRequest,
} from './fake-vault-types';

interface Version {
  data: Record<string, unknown>;
  created: string;
  deleted: string;
}
interface Token {
  namespace: string;
  ttlSeconds: number;
  expiresAt: number;
  maxExpiresAt: number;
  renewable: boolean;
  issuedAt: number;
  accessor: string;
}
interface Role extends FakeRoleOptions {
  credential: string;
}
interface Reply {
  status: number;
  body?: unknown;
}

const denied: Reply = { status: 403, body: { errors: ['permission denied'] } };

/**
 * A real HTTP server on 127.0.0.1 speaking the Vault HTTP API as the provider uses it: KV v2
 * (`<mount>/data/<path>` read, write with check-and-set, soft delete; `<mount>/metadata/<path>`),
 * AppRole and Kubernetes login, `token/lookup-self`, `renew-self`, `revoke-self`; `X-Vault-Token`
 * and `X-Vault-Namespace` headers, `{"errors":[…]}` bodies. Any mount is a KV v2 mount, and any
 * `auth/<mount>/login` is AppRole (body with `role_id`) or Kubernetes (body with `jwt`).
 */
export async function startFakeVault(options: FakeVaultOptions = {}): Promise<FakeVault> {
  const { port: wantedPort = 0, tokenTtlSeconds = 3600, now = Date.now } = options;
  const secrets = new Map<string, Version[]>();
  const tokens = new Map<string, Token>();
  const appRoles = new Map<string, Role>();
  const kubeRoles = new Map<string, Role>();
  const requests: FakeVaultRequest[] = [];
  const hung = new Set<Socket>();
  let failure: { mode: FakeVaultFailure; left: number; pathPrefix: string } | undefined;

  const secretKey = (namespace: string, mount: string, path: string) =>
    `${namespace}\u0000${mount}\u0000${path}`;
  const iso = () => new Date(now()).toISOString();

  function issue(ttlSeconds: number, options: FakeTokenOptions = {}): string {
    const token = `hvs.fake${randomBytes(18).toString('base64url')}`;
    const issuedAt = now();
    const { maxTtlSeconds, namespace = '', renewable = true } = options;
    tokens.set(token, {
      namespace: normalise(namespace),
      ttlSeconds,
      expiresAt: ttlSeconds === 0 ? Infinity : issuedAt + ttlSeconds * 1000,
      maxExpiresAt: maxTtlSeconds === undefined ? Infinity : issuedAt + maxTtlSeconds * 1000,
      renewable,
      issuedAt,
      accessor: randomBytes(12).toString('base64url'),
    });
    return token;
  }

  /** The caller's live token, if it may act in `namespace`. */
  function tokenOf(req: IncomingMessage, namespace: string): [string, Token] | undefined {
    const id = header(req, 'x-vault-token');
    const token = id === undefined ? undefined : tokens.get(id);
    if (id === undefined || token === undefined) return undefined;
    if (now() >= token.expiresAt) {
      tokens.delete(id);
      return undefined;
    }
    return token.namespace === '' || token.namespace === namespace ? [id, token] : undefined;
  }

  function authReply(id: string, token: Token, metadata: Record<string, string> | null): Reply {
    const remaining = Math.max(0, Math.floor((token.expiresAt - now()) / 1000));
    return {
      status: 200,
      body: envelope(null, {
        client_token: id,
        accessor: token.accessor,
        policies: ['default'],
        token_policies: ['default'],
        metadata,
        lease_duration: token.expiresAt === Infinity ? 0 : remaining,
        renewable: token.renewable,
        entity_id: '',
        token_type: 'service',
        orphan: true,
      }),
    };
  }

  function login(namespace: string, body: Record<string, unknown>): Reply {
    const isAppRole = 'role_id' in body;
    const name = String(isAppRole ? body.role_id : body.role);
    const role = (isAppRole ? appRoles : kubeRoles).get(name);
    const inNamespace = role?.namespace === undefined || normalise(role.namespace) === namespace;
    if (!isAppRole && (role === undefined || !inNamespace)) {
      return { status: 400, body: { errors: [`invalid role name "${name}"`] } };
    }
    const presented = isAppRole ? body.secret_id : body.jwt;
    if (role === undefined || !inNamespace || presented !== role.credential) {
      return isAppRole ? { status: 400, body: { errors: ['invalid role or secret ID'] } } : denied;
    }
    const id = issue(role.ttlSeconds ?? tokenTtlSeconds, { ...role, namespace });
    const token = tokens.get(id) as Token;
    return authReply(id, token, isAppRole ? { role_name: name } : { role: name });
  }

  function tokenRoute(req: IncomingMessage, op: string, namespace: string, body: unknown): Reply {
    const found = tokenOf(req, namespace);
    if (found === undefined) return denied;
    const [id, token] = found;
    if (op === 'lookup-self') {
      const expires = token.expiresAt === Infinity ? null : new Date(token.expiresAt).toISOString();
      const ttl = token.expiresAt === Infinity ? 0 : Math.floor((token.expiresAt - now()) / 1000);
      return {
        status: 200,
        body: envelope({
          accessor: token.accessor,
          creation_time: Math.floor(token.issuedAt / 1000),
          creation_ttl: token.ttlSeconds,
          display_name: 'token',
          entity_id: '',
          expire_time: expires,
          explicit_max_ttl: 0,
          id,
          issue_time: new Date(token.issuedAt).toISOString(),
          meta: null,
          namespace_path: token.namespace === '' ? '' : `${token.namespace}/`,
          num_uses: 0,
          orphan: true,
          path: 'auth/token/create',
          policies: ['default'],
          renewable: token.renewable,
          ttl,
          type: 'service',
        }),
      };
    }
    if (op === 'revoke-self') {
      tokens.delete(id);
      return { status: 204 };
    }
    if (!token.renewable || token.expiresAt === Infinity) {
      return { status: 400, body: { errors: ['lease is not renewable'] } };
    }
    const increment = seconds((body as { increment?: unknown } | undefined)?.increment);
    if (increment === undefined) return { status: 400, body: { errors: ['invalid increment'] } };
    token.expiresAt = Math.min(now() + (increment || token.ttlSeconds) * 1000, token.maxExpiresAt);
    return authReply(id, token, null);
  }

  function kvRoute(
    req: IncomingMessage,
    url: URL,
    namespace: string,
    body: unknown,
  ): Reply | undefined {
    const match = /^\/v1\/([^/]+)\/(data|metadata)\/(.+)$/.exec(url.pathname);
    if (match === null) return undefined;
    const [, mount = '', kind, rawPath = ''] = match;
    if (tokenOf(req, namespace) === undefined) return denied;
    const path = decodeURIComponent(rawPath);
    const versions = secrets.get(secretKey(namespace, decodeURIComponent(mount), path));
    const method = req.method ?? 'GET';
    if (kind === 'metadata') {
      if (method !== 'GET') return unsupported;
      return versions === undefined ? { status: 404, body: { errors: [] } } : metadata(versions);
    }
    if (method === 'GET') return read(versions, url.searchParams.get('version'));
    if (method === 'DELETE') {
      const latest = versions?.at(-1);
      if (latest !== undefined && latest.deleted === '') latest.deleted = iso();
      return { status: 204 };
    }
    if (method !== 'POST' && method !== 'PUT') return unsupported;
    const { data, options: writeOptions } = (body ?? {}) as { data?: unknown; options?: unknown };
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      return { status: 400, body: { errors: ['no data provided'] } };
    }
    const cas = (writeOptions as { cas?: unknown } | undefined)?.cas;
    if (cas !== undefined && cas !== (versions?.length ?? 0)) {
      const why = 'check-and-set parameter did not match the current version';
      return { status: 400, body: { errors: [why] } };
    }
    const version = store(
      namespace,
      decodeURIComponent(mount),
      path,
      data as Record<string, unknown>,
    );
    return {
      status: 200,
      body: envelope({
        created_time: iso(),
        custom_metadata: null,
        deletion_time: '',
        destroyed: false,
        version,
      }),
    };
  }

  function read(versions: Version[] | undefined, wanted: string | null): Reply {
    const number = wanted === null || wanted === '0' ? (versions?.length ?? 0) : Number(wanted);
    const version = versions?.[number - 1];
    if (version === undefined) return { status: 404, body: { errors: [] } };
    const body = envelope({
      data: version.deleted === '' ? version.data : null,
      metadata: {
        created_time: version.created,
        custom_metadata: null,
        deletion_time: version.deleted,
        destroyed: false,
        version: number,
      },
    });
    return { status: version.deleted === '' ? 200 : 404, body };
  }

  function metadata(versions: Version[]): Reply {
    const entries = versions.map((v, i) => [
      String(i + 1),
      { created_time: v.created, deletion_time: v.deleted, destroyed: false },
    ]);
    return {
      status: 200,
      body: envelope({
        cas_required: false,
        created_time: versions[0]?.created,
        current_version: versions.length,
        custom_metadata: null,
        delete_version_after: '0s',
        max_versions: 0,
        oldest_version: 0,
        updated_time: versions.at(-1)?.created,
        versions: Object.fromEntries(entries),
      }),
    };
  }

  function store(namespace: string, mount: string, path: string, data: Record<string, unknown>) {
    const key = secretKey(normalise(namespace), mount, path);
    const versions = secrets.get(key) ?? [];
    versions.push({ data: structuredClone(data), created: iso(), deleted: '' });
    secrets.set(key, versions);
    return versions.length;
  }

  function route(req: IncomingMessage, url: URL, namespace: string, text: string): Reply {
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      return { status: 400, body: { errors: ['failed to parse JSON input'] } };
    }
    const method = req.method ?? 'GET';
    const auth = /^\/v1\/auth\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (auth !== null) {
      const [, mount, op = ''] = auth;
      if (mount === 'token' && ['lookup-self', 'renew-self', 'revoke-self'].includes(op)) {
        return tokenRoute(req, op, namespace, body);
      }
      if (op === 'login' && (method === 'POST' || method === 'PUT')) {
        return login(namespace, (body ?? {}) as Record<string, unknown>);
      }
      return unsupported;
    }
    return (
      kvRoute(req, url, namespace, body) ?? { status: 404, body: { errors: ['unsupported path'] } }
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const sentNamespace = header(req, 'x-vault-namespace');
    const record: FakeVaultRequest = { method: req.method ?? 'GET', path: url.pathname };
    if (sentNamespace !== undefined) record.namespace = sentNamespace;
    requests.push(record);
    const fault =
      failure !== undefined && url.pathname.startsWith(failure.pathPrefix) ? failure : undefined;
    if (fault !== undefined && (fault.left -= 1) <= 0) failure = undefined;
    if (fault?.mode === 'hang') {
      hung.add(req.socket);
      req.socket.once('close', () => hung.delete(req.socket));
      return;
    }
    const reply: Reply =
      fault?.mode === 'sealed'
        ? { status: 503, body: { errors: ['Vault is sealed'] } }
        : fault?.mode === '500'
          ? { status: 500, body: { errors: ['internal error'] } }
          : route(req, url, normalise(sentNamespace ?? ''), text);
    record.status = reply.status;
    res.writeHead(
      reply.status,
      reply.body === undefined ? {} : { 'content-type': 'application/json' },
    );
    res.end(reply.body === undefined ? undefined : JSON.stringify(reply.body));
  }

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });
  const { port, close } = await listenOnLoopback(server, wantedPort);

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    requestCount: (prefix = '') => requests.filter((r) => r.path.startsWith(prefix)).length,
    seed: (mount, path, data, namespace = '') => store(namespace, mount, path, data),
    read(mount, path, { namespace = '', version } = {}) {
      const versions = secrets.get(secretKey(normalise(namespace), mount, path)) ?? [];
      const number = version ?? versions.length;
      const found = versions[number - 1];
      return found === undefined
        ? undefined
        : { data: structuredClone(found.data), version: number };
    },
    addAppRole: (roleId, secretId, roleOptions = {}) =>
      void appRoles.set(roleId, { ...roleOptions, credential: secretId }),
    addKubernetesRole: (role, jwt, roleOptions = {}) =>
      void kubeRoles.set(role, { ...roleOptions, credential: jwt }),
    issueToken: (ttlSeconds = tokenTtlSeconds, tokenOptions) => issue(ttlSeconds, tokenOptions),
    revokeTokens: () => tokens.clear(),
    fail(mode, { times = Infinity, pathPrefix = '' } = {}) {
      failure = mode === undefined ? undefined : { mode, left: times, pathPrefix };
    },
    openHungRequests: () => hung.size,
    close,
    [Symbol.asyncDispose]: close,
  };
}

const unsupported: Reply = { status: 405, body: { errors: ['unsupported operation'] } };

/** Vault's response envelope. */
function envelope(data: unknown, auth: unknown = null): Record<string, unknown> {
  return {
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: null,
    auth,
  };
}

/** `team-a/` and `/team-a` are `team-a`, as in Vault. */
function normalise(namespace: string): string {
  return namespace.replace(/^\/+|\/+$/g, '');
}

/** A renewal increment in seconds (number, `"90"`, `"90s"`, `"15m"`, `"1h"`); 0 when absent. */
function seconds(value: unknown): number | undefined {
  if (value === undefined) return 0;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  const match = typeof value === 'string' ? /^(\d+)([smh]?)$/.exec(value) : null;
  if (match === null) return undefined;
  return Number(match[1]) * (match[2] === 'h' ? 3600 : match[2] === 'm' ? 60 : 1);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
