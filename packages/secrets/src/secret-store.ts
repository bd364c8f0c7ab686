import { AppError, isAppError, toAppError, toError } from '@agentry/schema';
import { LRUCache } from 'lru-cache';
import { createChangeListeners } from './change-listeners';
import { withDeadline } from './deadline';
import { parseSecretValue } from './parse-secret-value';
import type { SecretProvider, SecretValue } from './secret-provider';
import { parseSecretRef, type SecretRef } from './secret-ref';
import type { Scrubber, SecretAuditEvent, SecretStore } from './secret-store-contract';
import { createScrubber } from './scrubber';
import { createSingleFlight } from './single-flight';

/** Options of {@link createSecretStore}. */
export interface SecretStoreOptions {
  /** One per scheme. */
  providers: SecretProvider[];
  /** Who reads, for the audit trail, e.g. `executor@host:1234`. */
  actor: string;
  /** How long a loaded value is served without asking its backend. @default 300_000 */
  ttlMs?: number;
  /** How long after its expiry a value may still be served when its backend fails. @default 900_000 */
  staleForMs?: number;
  /**
   * After a failed refresh served a stale value, how long that value keeps being served before
   * the backend is asked again, so that an outage does not cost every caller a full
   * `loadTimeoutMs`. @default 10_000
   */
  staleRetryMs?: number;
  /** References cached at most (least recently used dropped first). @default 1000 */
  maxEntries?: number;
  /** Deadline of each provider call (`get`, `rotate`), joined with the caller's signal. @default 10_000 */
  loadTimeoutMs?: number;
  /** The audit trail. A throwing sink is reported to `onListenerError`, never to the caller. */
  onAudit?: (event: SecretAuditEvent) => void;
  /** An `onChange` listener or the `onAudit` sink threw. @default ignore */
  onListenerError?: (error: Error, context: { ref: string; hook: 'onAudit' | 'onChange' }) => void;
  /** Milliseconds since the epoch. @default Date.now */
  clock?: () => number;
  /** Receives every resolved value. @default a new {@link createScrubber} */
  scrubber?: Scrubber;
}

interface Entry {
  value: string;
  version: string | undefined;
  loadedAt: number;
  expiresAt: number;
  /** A failed refresh served this value stale; serve it without asking until then. */
  holdUntil?: number;
  /** Dropped by `invalidate`/`rotate`: never served, kept to tell `refresh` and changes apart. */
  invalidated?: boolean;
}

/**
 * A {@link SecretStore} over `providers`, following that contract, plus:
 * - only a retryable failure (`TIMEOUT`, `UNAVAILABLE`, …) serves a stale value: `NOT_FOUND` and
 *   `POLICY_DENIED` are the backend's answer (a deleted secret, revoked access) and take effect;
 * - a failure rejects with the provider's code, a message naming the reference, and the scrubbed
 *   provider error as `cause`; the load is audited `failure`;
 * - `withSecret` rethrows the original error when the reload fails or returns the same value;
 * - `rotate` also makes other references to the same secret (another `#key`) reload;
 * - listener and audit-sink errors go to `onListenerError` and never reach the caller;
 * - after `close` every call rejects with `CANCELLED`.
 */
export function createSecretStore(
  options: SecretStoreOptions,
): SecretStore & { [Symbol.asyncDispose](): Promise<void> } {
  const { actor, onAudit, onListenerError, clock = Date.now } = options;
  const { ttlMs = 300_000, staleForMs = 900_000, staleRetryMs = 10_000 } = options;
  const { maxEntries = 1000, loadTimeoutMs = 10_000, scrubber = createScrubber() } = options;
  for (const [name, ms] of Object.entries({ ttlMs, staleForMs, staleRetryMs, loadTimeoutMs })) {
    if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`${name} must be >= 0, got ${ms}`);
  }
  if (!(Number.isInteger(maxEntries) && maxEntries >= 1))
    throw new RangeError(`maxEntries must be an integer >= 1, got ${maxEntries}`);

  const providers = new Map<string, SecretProvider>();
  for (const provider of options.providers) {
    if (providers.has(provider.scheme))
      throw new AppError('VALIDATION', `two secret providers for ${provider.scheme}://`);
    providers.set(provider.scheme, provider);
  }
  // `max` only: expiry is ours, since an expired entry may still be served stale.
  const cache = new LRUCache<string, Entry>({ max: maxEntries });
  const flights = createSingleFlight<string>();
  const hookFailed = (hook: 'onAudit' | 'onChange') => (caught: unknown, ref: string) => {
    try {
      onListenerError?.(toError(caught), { ref, hook });
    } catch {
      // The error hook itself failed: nothing is left to tell.
    }
  };
  const listeners = createChangeListeners(hookFailed('onChange'));
  const auditFailed = hookFailed('onAudit');
  let closing: Promise<void> | undefined;

  const audit = (event: Omit<SecretAuditEvent, 'actor' | 'at'>) => {
    try {
      onAudit?.({ ...event, actor, at: new Date(clock()) });
    } catch (caught) {
      auditFailed(caught, event.ref);
    }
  };

  const resolve = (ref: string | SecretRef): { ref: SecretRef; provider: SecretProvider } => {
    if (closing !== undefined) throw new AppError('CANCELLED', 'the secret store is closed');
    const parsed = typeof ref === 'string' ? parseSecretRef(ref) : ref;
    const provider = providers.get(parsed.scheme);
    if (provider === undefined) {
      const known = [...providers.keys()].map((s) => `${s}://`).join(', ') || 'none';
      throw new AppError(
        'VALIDATION',
        `${parsed.raw}: no secret provider for ${parsed.scheme}:// is configured (configured: ${known})`,
        { details: { scheme: parsed.scheme } },
      );
    }
    return { ref: parsed, provider };
  };

  const timeoutError = (ref: SecretRef, what: string) => () =>
    new AppError(
      'TIMEOUT',
      `${ref.raw}: the ${ref.scheme} backend did not ${what} within ${loadTimeoutMs} ms`,
      {
        details: { timeoutMs: loadTimeoutMs },
      },
    );

  /** A scrubbed copy of `error` whose message names `ref` (its cause the provider's error). */
  const named = (ref: SecretRef, error: AppError, suffix = ''): AppError => {
    const message = error.message.includes(ref.raw)
      ? error.message
      : `${ref.raw}: ${error.message}`;
    if (message === error.message && suffix === '') return error;
    return new AppError(error.code, message + suffix, {
      cause: error,
      details: error.details,
      retryable: error.retryable,
    });
  };

  // Bumped by every invalidation and rotation of a key: a load that started before one must not
  // put its (older) value back in the cache or announce it as a change.
  const generations = new Map<string, number>();
  const generationOf = (key: string): number => generations.get(key) ?? 0;
  const bump = (key: string): void => {
    generations.set(key, generationOf(key) + 1);
    flights.detach(key);
  };

  const store = (ref: SecretRef, loaded: SecretValue): Entry | undefined => {
    scrubber.add(loaded.value);
    const previous = cache.get(ref.raw);
    const now = clock();
    cache.set(ref.raw, {
      value: loaded.value,
      version: loaded.version,
      loadedAt: now,
      expiresAt: now + ttlMs,
    });
    return previous;
  };

  const load = async (
    ref: SecretRef,
    provider: SecretProvider,
    signal: AbortSignal,
  ): Promise<string> => {
    const generation = generationOf(ref.raw);
    let loaded: SecretValue;
    try {
      loaded = await withDeadline(loadTimeoutMs, signal, timeoutError(ref, 'answer'), (s) =>
        provider.get(ref, s),
      );
      if (typeof loaded?.value !== 'string')
        throw new AppError('INTERNAL', `${ref.raw}: the ${ref.scheme} provider returned no value`);
    } catch (caught) {
      const error = named(ref, scrubber.scrubDeep(toAppError(caught)));
      // Every caller left, or the store is closing: nobody to serve, nothing to audit.
      if (signal.aborted) throw error;
      return serveStaleOrFail(ref, error);
    }
    if (generation !== generationOf(ref.raw)) {
      // Invalidated or rotated while loading: answer the callers that waited, remember nothing.
      scrubber.add(loaded.value);
      return loaded.value;
    }
    const previous = store(ref, loaded);
    audit({
      action: previous === undefined ? 'read' : 'refresh',
      ref: ref.raw,
      outcome: 'ok',
      ...(loaded.version === undefined ? {} : { version: loaded.version }),
    });
    if (previous !== undefined && previous.value !== loaded.value)
      listeners.notify(ref.raw, loaded.value);
    return loaded.value;
  };

  const serveStaleOrFail = (ref: SecretRef, error: AppError): string => {
    const entry = cache.get(ref.raw);
    const now = clock();
    const usable = entry !== undefined && entry.invalidated !== true;
    const age = usable ? now - entry.expiresAt : 0;
    if (usable && error.retryable && age <= staleForMs) {
      entry.holdUntil = now + staleRetryMs;
      audit({
        action: 'stale',
        ref: ref.raw,
        outcome: 'error',
        errorCode: error.code,
        reason: `${error.message}; served the value cached ${now - entry.loadedAt} ms ago`,
        ...(entry.version === undefined ? {} : { version: entry.version }),
      });
      return entry.value;
    }
    // The backend's real answer (deleted, access revoked): the old value must not come back later.
    if (entry !== undefined && !error.retryable) {
      entry.invalidated = true;
      delete entry.holdUntil;
    }
    const failure =
      usable && error.retryable
        ? named(
            ref,
            error,
            `; the cached value expired ${age} ms ago, beyond the ${staleForMs} ms stale window`,
          )
        : error;
    audit({
      action: 'failure',
      ref: ref.raw,
      outcome: 'error',
      errorCode: failure.code,
      reason: failure.message,
    });
    throw failure;
  };

  const get = async (ref: string | SecretRef, signal?: AbortSignal): Promise<string> => {
    const { ref: parsed, provider } = resolve(ref);
    const entry = cache.get(parsed.raw);
    const now = clock();
    if (entry !== undefined && entry.invalidated !== true) {
      if (now < entry.expiresAt) return entry.value;
      const held = entry.holdUntil !== undefined && now < entry.holdUntil;
      if (held && now - entry.expiresAt <= staleForMs) return entry.value;
    }
    return flights.run(parsed.raw, signal, (s) => load(parsed, provider, s));
  };

  const drop = (key: string, reason: string | undefined) => {
    bump(key);
    const entry = cache.peek(key);
    if (entry !== undefined) {
      entry.invalidated = true;
      delete entry.holdUntil;
    }
    audit({
      action: 'invalidate',
      ref: key,
      outcome: 'ok',
      ...(reason === undefined ? {} : { reason }),
    });
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      flights.abortAll(new AppError('CANCELLED', 'the secret store is closing'));
      listeners.clear();
      cache.clear();
      const results = await Promise.allSettled(
        [...providers.values()].map(async (p) => p.close?.()),
      );
      const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
      if (errors.length > 0) {
        throw new AppError('INTERNAL', `${errors.length} secret provider(s) failed to close`, {
          cause: scrubber.scrubDeep(new AggregateError(errors.map(toError))),
        });
      }
    })();
    return closing;
  };

  return {
    scrubber,
    get,

    async getParsed(ref, schema, signal) {
      const value = await get(ref, signal);
      return parseSecretValue(typeof ref === 'string' ? ref : ref.raw, value, schema);
    },

    invalidate(ref, reason) {
      if (ref === undefined) {
        for (const key of [...cache.keys()]) drop(key, reason);
        return;
      }
      drop(typeof ref === 'string' ? parseSecretRef(ref).raw : ref.raw, reason);
    },

    async withSecret(ref, use, options = {}) {
      const { isRejected, signal } = options;
      const key = typeof ref === 'string' ? ref : ref.raw;
      const first = await get(ref, signal);
      try {
        return await use(first);
      } catch (caught) {
        if (!(isCredentialRejected(caught) || isRejected?.(caught) === true)) throw caught;
        // Another caller may already have reloaded a new value: only drop the rejected one.
        const current = cache.peek(key);
        if (current !== undefined && current.invalidated !== true && current.value === first)
          drop(key, 'the credential was rejected by its user');
        let second: string;
        try {
          second = await get(ref, signal);
        } catch {
          throw caught; // The reload failed (audited): the caller needs why `use` failed.
        }
        if (second === first) throw caught;
        return use(second);
      }
    },

    async rotate(ref, newValue, signal) {
      const { ref: parsed, provider } = resolve(ref);
      if (provider.rotate === undefined) {
        throw new AppError('VALIDATION', `rotation is not supported for ${parsed.scheme}://`, {
          details: { scheme: parsed.scheme },
        });
      }
      const rotateWith = provider.rotate.bind(provider);
      scrubber.add(newValue);
      let written: SecretValue;
      try {
        written = await withDeadline(
          loadTimeoutMs,
          signal,
          timeoutError(parsed, 'store the new version'),
          (s) => rotateWith(parsed, newValue, s),
        );
      } catch (caught) {
        const error = named(parsed, scrubber.scrubDeep(toAppError(caught)));
        audit({
          action: 'rotate',
          ref: parsed.raw,
          outcome: 'error',
          errorCode: error.code,
          reason: error.message,
        });
        throw error;
      }
      const { value } = written;
      bump(parsed.raw);
      const previous = store(parsed, written);
      audit({
        action: 'rotate',
        ref: parsed.raw,
        outcome: 'ok',
        ...(written.version === undefined ? {} : { version: written.version }),
      });
      for (const key of [...cache.keys()]) {
        if (key !== parsed.raw && sameSecret(key, parsed)) drop(key, `${parsed.raw} was rotated`);
      }
      if (previous === undefined || previous.value !== value) listeners.notify(parsed.raw, value);
      return written.version === undefined ? {} : { version: written.version };
    },

    onChange(ref, listener) {
      return listeners.add(typeof ref === 'string' ? parseSecretRef(ref).raw : ref.raw, listener);
    },

    close,
    [Symbol.asyncDispose]: close,
  };
}

/** `details.credentialRejected: true` on an `AppError`: the backend refused this credential. */
function isCredentialRejected(error: unknown): boolean {
  return isAppError(error) && error.details?.credentialRejected === true;
}

/** Whether the cached reference `key` names the same secret as `ref` (another `#key` of it). */
function sameSecret(key: string, ref: SecretRef): boolean {
  try {
    const other = parseSecretRef(key);
    return other.scheme === ref.scheme && other.id === ref.id;
  } catch {
    return false;
  }
}
