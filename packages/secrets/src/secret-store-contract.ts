import type { z } from 'zod';
import type { SecretRef } from './secret-ref';

/** What happened to a secret; the value never appears. */
export interface SecretAuditEvent {
  /**
   * `read`: loaded from its backend (a cache miss); `refresh`: re-loaded after expiry or
   * invalidation; `stale`: the backend failed and an expired value was served; `failure`: nothing
   * could be served; `rotate`: a new version was written; `invalidate`: dropped from the cache.
   */
  action: 'read' | 'refresh' | 'stale' | 'failure' | 'rotate' | 'invalidate';
  /** The reference as written. */
  ref: string;
  outcome: 'ok' | 'error';
  /** Who: the process and component, e.g. `executor@host:1234`. */
  actor: string;
  at: Date;
  /** The backend's version id, when known. */
  version?: string;
  errorCode?: string;
  /** Why, for `failure`, `stale` and `invalidate` (no value in it). */
  reason?: string;
}

/** A cache of resolved secrets over the providers (see `createSecretStore`). */
export interface SecretStore {
  /**
   * The value of `ref`: from the cache within its TTL (no backend call), else loaded — one load
   * per reference at a time however many callers wait (single flight). When a load fails and an
   * expired value is no older than the stale window, that value is served (audited `stale`);
   * otherwise rejects with the provider's `AppError`.
   */
  get(ref: string | SecretRef, signal?: AbortSignal): Promise<string>;
  /** `get`, then parse the value with `schema` (`VALIDATION` naming the reference, never the value). */
  getParsed<T>(ref: string | SecretRef, schema: z.ZodType<T>, signal?: AbortSignal): Promise<T>;
  /** Drop `ref` (or everything) from the cache; the next `get` loads it. */
  invalidate(ref?: string | SecretRef, reason?: string): void;
  /**
   * Run `use` with the value. When it rejects with a credential-rejected error (an `AppError`
   * with `details.credentialRejected: true`, or what `isRejected` accepts), invalidate, load the
   * value again and — only if it changed — run `use` once more. A rotated password is picked up
   * without a restart, and a wrong one is not retried in a loop.
   */
  withSecret<T>(
    ref: string | SecretRef,
    use: (value: string) => Promise<T>,
    options?: { isRejected?: (error: unknown) => boolean; signal?: AbortSignal },
  ): Promise<T>;
  /** Write a new current version through the provider, then refresh the cache and notify. */
  rotate(
    ref: string | SecretRef,
    newValue: string,
    signal?: AbortSignal,
  ): Promise<{ version?: string }>;
  /**
   * Hear when `ref`'s value changes (a refresh or rotation loaded a different value). Consumers
   * holding connections re-authenticate here. Returns a function that stops listening.
   */
  onChange(ref: string | SecretRef, listener: (value: string) => void): () => void;
  /** Every value resolved so far can be removed from text with this (see `Scrubber`). */
  readonly scrubber: Scrubber;
  /** Stop timers and close the providers. */
  close(): Promise<void>;
}

/**
 * Removes known secret values from text before it reaches a log, an error or an API answer. Its
 * methods do not use `this`: pass them on as functions (`createLogger({ scrub: scrubber.scrub })`).
 */
export interface Scrubber {
  /** Remember a value to scrub (values shorter than 6 characters are ignored: too common). */
  add(value: string): void;
  /** `text` with every known value replaced by `[secret]`. */
  scrub(text: string): string;
  /** A copy of `value` (string, Error with message/stack/cause, or plain JSON) scrubbed deeply. */
  scrubDeep<T>(value: T): T;
}
