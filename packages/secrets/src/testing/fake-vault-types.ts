/** A fault every matching request gets: HTTP 500, 503 "Vault is sealed", or no answer at all. */
export type FakeVaultFailure = '500' | 'sealed' | 'hang';

/** A request as the fake received it: never its token or its body. */
export interface FakeVaultRequest {
  method: string;
  /** The URL path without its query, e.g. `/v1/kv/data/agentry/llm`. */
  path: string;
  /** `X-Vault-Namespace`, when sent. */
  namespace?: string;
  /** The status answered; unset while hung. */
  status?: number;
}

export interface FakeVaultOptions {
  /** Port on 127.0.0.1. @default 0, an ephemeral port */
  port?: number;
  /** Lease of tokens from logins and {@link FakeVault.issueToken}, in seconds. @default 3600 */
  tokenTtlSeconds?: number;
  /** The clock tokens expire by. @default Date.now */
  now?: () => number;
}

export interface FakeTokenOptions {
  /** The namespace the token lives in; a root-namespace token ('') may call any. @default '' */
  namespace?: string;
  /** @default true */
  renewable?: boolean;
  /** Renewals never extend the token past this many seconds from issue. @default no cap */
  maxTtlSeconds?: number;
}

export interface FakeRoleOptions extends Omit<FakeTokenOptions, 'namespace'> {
  /** Lease of the tokens this role's logins get. @default the server's tokenTtlSeconds */
  ttlSeconds?: number;
  /** The namespace whose auth mount holds the role. @default any namespace (a fake's shortcut) */
  namespace?: string;
}

export interface FakeVault extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`, the provider's `address`. */
  readonly url: string;
  /** Every request since start, oldest first. */
  readonly requests: readonly FakeVaultRequest[];
  /** Requests whose path starts with `pathPrefix` (all when omitted). */
  requestCount(pathPrefix?: string): number;
  /** Write a new version of a KV v2 secret; returns its version number. */
  seed(mount: string, path: string, data: Record<string, unknown>, namespace?: string): number;
  /** A version's data (latest by default), or undefined; for asserting on rotations. */
  read(
    mount: string,
    path: string,
    options?: { namespace?: string; version?: number },
  ): { data: Record<string, unknown>; version: number } | undefined;
  addAppRole(roleId: string, secretId: string, options?: FakeRoleOptions): void;
  addKubernetesRole(role: string, jwt: string, options?: FakeRoleOptions): void;
  /** A new token (`hvs.…`) with this lease (0: never expires). */
  issueToken(ttlSeconds?: number, options?: FakeTokenOptions): string;
  /** Every token stops working (403 `permission denied`), as after a Vault restore. */
  revokeTokens(): void;
  /** Fail the requests whose path starts with `pathPrefix` (all by default) `times` times (always by default); `undefined` heals. */
  fail(mode: FakeVaultFailure | undefined, options?: { times?: number; pathPrefix?: string }): void;
  /** Hung requests whose connection is still open (0 once every caller has given up). */
  openHungRequests(): number;
  /** Stop listening and cut every connection, hung ones too. Safe to call twice. */
  close(): Promise<void>;
}
