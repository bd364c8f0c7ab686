import type { SecretRef } from './secret-ref';

/** What a provider answers for a reference. */
export interface SecretValue {
  /** The secret text (the selected JSON key's value when the reference has a `#key`). */
  value: string;
  /** The provider's version id, when it has versions (AWS VersionId, Vault KV version). */
  version?: string;
}

/**
 * One secret backend. Contract of `get`: resolves with the value or rejects with an `AppError` —
 * `NOT_FOUND` (no such secret, version or key: not retryable), `POLICY_DENIED` (access refused or
 * a production policy refuses the scheme: not retryable), `TIMEOUT` / `TRANSIENT` / `UNAVAILABLE`
 * (the backend could not answer), `VALIDATION` (malformed reference or value). A rejection never
 * contains a secret value. Every remote call has a deadline.
 */
export interface SecretProvider {
  /** The reference scheme it serves: `aws`, `vault`, `env`, `file`. */
  readonly scheme: SecretRef['scheme'];
  get(ref: SecretRef, signal?: AbortSignal): Promise<SecretValue>;
  /**
   * Store a new value as the current version (AWS: new version staged AWSCURRENT, the old one
   * AWSPREVIOUS; Vault: a new KV version). Only providers that support rotation implement it.
   * With a `#key` reference, the other keys of a JSON secret are kept.
   */
  rotate?(ref: SecretRef, newValue: string, signal?: AbortSignal): Promise<SecretValue>;
  /** Release timers and connections (Vault token renewal). */
  close?(): Promise<void>;
}
