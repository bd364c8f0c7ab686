import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Constant-time comparison of a presented secret with the expected one. */
export function sameSecret(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The credentials after `scheme` in an Authorization header, or '' for another scheme. The scheme
 * is case-insensitive (RFC 9110 §11.1): clients that send `bearer …` must not get a 401.
 */
function credentials(header: string | undefined, scheme: string): string {
  const value = header ?? '';
  return value.slice(0, scheme.length + 1).toLowerCase() === `${scheme.toLowerCase()} `
    ? value.slice(scheme.length + 1).trim()
    : '';
}

/** onRequest hook: `Authorization: Bearer <token>` must match. */
export function bearerAuth(token: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const presented = credentials(request.headers.authorization, 'Bearer');
    if (!sameSecret(presented, token)) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="agentry"')
        .send({ error: { code: 'POLICY_DENIED', message: 'a valid bearer token is required' } });
    }
  };
}

/** onRequest hook: HTTP basic credentials `admin:<password>` must match. */
export function basicAuth(password: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const decoded = Buffer.from(
      credentials(request.headers.authorization, 'Basic'),
      'base64',
    ).toString('utf8');
    const sep = decoded.indexOf(':');
    const ok =
      sep > 0 && decoded.slice(0, sep) === 'admin' && sameSecret(decoded.slice(sep + 1), password);
    if (!ok) {
      await reply
        .code(401)
        .header('www-authenticate', 'Basic realm="agentry board", charset="UTF-8"')
        .send({ error: { code: 'POLICY_DENIED', message: 'authentication required' } });
    }
  };
}
