import { createHmac } from 'node:crypto';

/**
 * A `sign` function for webhook.notify: hex HMAC-SHA256 of the body under the secret that
 * `secret()` returns (fetch it from the secrets provider, which caches and rotates it; the value
 * is never kept here). Rejects when `secret()` does.
 */
export function createHmacSigner(
  secret: () => Promise<string> | string,
): (body: string) => Promise<string> {
  return async (body) =>
    createHmac('sha256', await secret())
      .update(body, 'utf8')
      .digest('hex');
}
