import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { AppError } from '@agentry/schema';
import { abortOrNetwork, vaultFailure, vaultFetch, type VaultHttp } from './vault-http';

/** How the Vault provider gets its token. */
export type VaultAuth =
  /**
   * A token, or where to read it (a Vault Agent sink file): read again after Vault refuses the
   * one in use, so an agent's renewed or re-issued token is picked up.
   */
  | { method: 'token'; token: string | (() => Promise<string>) }
  /** AppRole login at `auth/<mount>/login`. @default mount 'approle' */
  /** The secret id, or where to read it: read again for every login (secret ids expire). */
  | {
      method: 'approle';
      roleId: string;
      secretId: string | (() => Promise<string>);
      mount?: string;
    }
  /**
   * Kubernetes login at `auth/<mount>/login` with the pod's service-account JWT, read again at
   * every login (projected tokens rotate). @default jwtPath the in-pod token, mount 'kubernetes'
   */
  | { method: 'kubernetes'; role: string; jwtPath?: string; mount?: string };

export const defaultJwtPath = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface VaultSessionOptions {
  http: VaultHttp;
  auth: VaultAuth;
  /** Deadline of a login, a lookup or a renewal run in the background. */
  timeoutMs: number;
  renew: boolean;
  now: () => number;
  /** Hears every credential the session holds (token, secret id, JWT, login tokens): the scrubber. */
  onCredential?: (value: string) => void;
}

/** The provider's token and its lease. */
export interface VaultSession {
  /**
   * The token to call with: the configured one, or the current login's while it is in use, else a
   * new login (one at a time, however many callers wait). Rejects with the login's `AppError`, or
   * `TIMEOUT`/`CANCELLED` when `signal` ends the wait.
   */
  token(signal: AbortSignal): Promise<string>;
  /** Vault refused `token` (403): forget it. True when logging in again may help. */
  rejected(token: string): boolean;
  /** Stop the renewal timer and any login or renewal under way. Safe to call twice. */
  close(): void;
}

interface Lease {
  token: string;
  leaseMs: number;
  /** After this (by `now`), calls log in again instead of using the token. */
  useUntil: number;
}

const AuthAnswer = z.object({
  auth: z.object({ client_token: z.string(), lease_duration: z.number(), renewable: z.boolean() }),
});
const LookupAnswer = z.object({ data: z.object({ ttl: z.number(), renewable: z.boolean() }) });

/**
 * Renewal: at 2/3 of a renewable lease a timer (unref'd) calls `renew-self`. A login's token is used
 * until 9/10 of its lease while renewal runs, 2/3 otherwise; a failed renewal, or one that grants
 * less than before (the max-TTL cap), makes the next call log in again. A configured token is
 * looked up once (`lookup-self`, in the background) to learn its lease, and never replaced.
 */
export function createVaultSession(options: VaultSessionOptions): VaultSession {
  const { http, auth, timeoutMs, renew, now } = options;
  const credential = options.onCredential ?? (() => undefined);
  if (auth.method === 'token' && typeof auth.token === 'string') credential(auth.token);
  let configured: Promise<string> | undefined;
  /** The configured token, read once and again after a refusal. */
  const configuredToken = (source: string | (() => Promise<string>)): Promise<string> => {
    if (typeof source === 'string') return Promise.resolve(source);
    configured ??= source().then(
      (token) => {
        credential(token);
        return token;
      },
      (e: unknown) => {
        configured = undefined;
        throw e;
      },
    );
    return configured;
  };
  if (auth.method === 'approle' && typeof auth.secretId === 'string') credential(auth.secretId);
  const stop = new AbortController();
  let lease: Lease | undefined;
  let login: Promise<Lease> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lookedUp = false;
  const backgroundSignal = () => AbortSignal.any([stop.signal, AbortSignal.timeout(timeoutMs)]);

  const credentialOf = (value: string): string => {
    credential(value);
    return value;
  };

  function adopt(token: string, leaseSeconds: number, renewable: boolean, capped = false): Lease {
    credential(token);
    clearTimeout(timer);
    const leaseMs = leaseSeconds * 1000;
    const renewing = renew && renewable && !capped && leaseMs > 0 && !stop.signal.aborted;
    const useUntil = leaseMs === 0 ? Infinity : now() + leaseMs * (renewing ? 0.9 : 2 / 3);
    const next: Lease = { token, leaseMs, useUntil };
    if (renewing) {
      timer = setTimeout(() => void renewNow(next), (leaseMs * 2) / 3);
      timer.unref();
    }
    return next;
  }

  async function renewNow(current: Lease): Promise<void> {
    const signal = backgroundSignal();
    const path = 'auth/token/renew-self';
    try {
      const answer = await vaultFetch(http, {
        method: 'POST',
        path,
        token: current.token,
        body: {},
        signal,
      });
      const parsed = AuthAnswer.safeParse(answer.body);
      if (answer.status !== 200 || !parsed.success) throw new Error('renewal refused');
      if (lease !== current) return;
      const { lease_duration: seconds, renewable } = parsed.data.auth;
      lease = adopt(current.token, seconds, renewable, seconds * 1000 < current.leaseMs);
    } catch {
      // No logger by design: a failed renewal only means the next call logs in again.
      if (lease === current) lease = { ...current, useUntil: -Infinity };
    }
  }

  async function lookUp(token: string): Promise<void> {
    const signal = backgroundSignal();
    try {
      const answer = await vaultFetch(http, {
        method: 'GET',
        path: 'auth/token/lookup-self',
        token,
        signal,
      });
      const parsed = LookupAnswer.safeParse(answer.body);
      if (answer.status === 200 && parsed.success) {
        lease = adopt(token, parsed.data.data.ttl, parsed.data.data.renewable);
      } else if (answer.status >= 500) lookedUp = false;
    } catch {
      lookedUp = false; // Vault unreachable: try again with the next call.
    }
  }

  async function logIn(method: Exclude<VaultAuth, { method: 'token' }>): Promise<Lease> {
    const signal = backgroundSignal();
    const what = `Vault ${method.method} login`;
    const body =
      method.method === 'approle'
        ? {
            role_id: method.roleId,
            secret_id: credentialOf(
              typeof method.secretId === 'string' ? method.secretId : await method.secretId(),
            ),
          }
        : { role: method.role, jwt: credentialOf(await readJwt(method.jwtPath ?? defaultJwtPath)) };
    const mount = encodeURIComponent(method.mount ?? method.method);
    const answer = await vaultFetch(http, {
      method: 'POST',
      path: `auth/${mount}/login`,
      body,
      signal,
    });
    if (answer.status !== 200) {
      throw vaultFailure(answer, what, { hide: Object.values(body), login: true });
    }
    const parsed = AuthAnswer.safeParse(answer.body);
    if (!parsed.success) throw new AppError('UNAVAILABLE', `${what}: the answer holds no token`);
    const { client_token: token, lease_duration: seconds, renewable } = parsed.data.auth;
    lease = adopt(token, seconds, renewable);
    return lease;
  }

  return {
    async token(signal) {
      if (stop.signal.aborted) throw new AppError('CANCELLED', 'the Vault provider is closed');
      if (auth.method === 'token') {
        const token = await configuredToken(auth.token);
        if (renew && !lookedUp) {
          lookedUp = true;
          void lookUp(token);
        }
        return token;
      }
      if (lease !== undefined && now() < lease.useUntil) return lease.token;
      if (login === undefined) {
        login = logIn(auth).finally(() => (login = undefined));
        login.catch(() => undefined); // Waiters may all have given up; each sees the rejection.
      }
      return (await untilAborted(login, signal, `Vault ${auth.method} login`)).token;
    },
    rejected(token) {
      if (auth.method === 'token') {
        // A token read from a source may have been replaced there: read it again, once.
        if (typeof auth.token === 'string') return false;
        clearTimeout(timer);
        lease = undefined;
        lookedUp = false;
        configured = undefined;
        return true;
      }
      if (lease?.token === token) {
        clearTimeout(timer);
        lease = undefined;
      }
      return true;
    },
    close() {
      stop.abort();
      clearTimeout(timer);
      lease = undefined;
    },
  };
}

async function readJwt(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (caught) {
    throw new AppError('UNAVAILABLE', `cannot read the Kubernetes service-account token ${path}`, {
      cause: caught,
      retryable: false,
    });
  }
}

/** `promise`, or a `TIMEOUT`/`CANCELLED` rejection as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortOrNetwork(signal.reason, signal, what));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
