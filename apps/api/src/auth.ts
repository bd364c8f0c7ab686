import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The expected secret, read per request: from the secret store (cached), so a rotated token or
 * password is accepted without a restart. `reload`, when given, is asked (rate-limited by its
 * owner) after a mismatch: a client may already hold a value rotated by another process.
 * Rejects when it cannot be resolved.
 */
export type Credential = (() => Promise<string>) & { reload?: () => Promise<string | undefined> };

/** Whether `presented` matches the credential, reloading it once after a mismatch. */
export async function matches(
  presented: string,
  wanted: string,
  credential: Credential,
): Promise<boolean> {
  if (sameSecret(presented, wanted)) return true;
  const reloaded = await credential.reload?.().catch(() => undefined);
  return reloaded !== undefined && reloaded !== wanted && sameSecret(presented, reloaded);
}

/**
 * Constant-time comparison of a presented secret with the expected one. Both are hashed first, so
 * neither the time taken nor an early exit reveals the expected secret's length.
 */
export function sameSecret(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * The credentials after `scheme` in an Authorization header, or '' for another scheme. The scheme
 * is case-insensitive (RFC 9110 §11.1): clients that send `bearer …` must not get a 401.
 */
export function credentials(header: string | undefined, scheme: 'Basic' | 'Bearer'): string {
  const value = header ?? '';
  return value.slice(0, scheme.length + 1).toLowerCase() === `${scheme.toLowerCase()} `
    ? value.slice(scheme.length + 1).trim()
    : '';
}

/** The user and password of `Authorization: Basic …`, or undefined when there are none. */
export function basicCredentials(
  header: string | undefined,
): { user: string; password: string } | undefined {
  const decoded = Buffer.from(credentials(header, 'Basic'), 'base64').toString('utf8');
  const sep = decoded.indexOf(':');
  return sep > 0 ? { user: decoded.slice(0, sep), password: decoded.slice(sep + 1) } : undefined;
}

/** The expected secret, or a 503 sent (the secret backend is down: the client may retry). */
export async function expected(
  credential: Credential,
  reply: FastifyReply,
): Promise<string | undefined> {
  try {
    return await credential();
  } catch {
    await reply.code(503).send({
      error: { code: 'UNAVAILABLE', message: 'credentials cannot be checked right now; retry' },
    });
    return undefined;
  }
}

/** onRequest hook: `Authorization: Bearer <token>` must match. */
export function bearerAuth(token: Credential) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const presented = credentials(request.headers.authorization, 'Bearer');
    const wanted = await expected(token, reply);
    if (wanted === undefined) return;
    if (!(await matches(presented, wanted, token))) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="agentry"')
        .send({ error: { code: 'POLICY_DENIED', message: 'a valid bearer token is required' } });
    }
  };
}
