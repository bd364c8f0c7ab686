import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Constant-time comparison of a presented secret with the expected one. */
export function sameSecret(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** onRequest hook: `Authorization: Bearer <token>` must match. */
export function bearerAuth(token: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
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
    const header = request.headers.authorization ?? '';
    const decoded = header.startsWith('Basic ')
      ? Buffer.from(header.slice(6), 'base64').toString('utf8')
      : '';
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
