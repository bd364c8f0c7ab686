import type { FastifyReply, FastifyRequest } from 'fastify';
import { basicCredentials, credentials, expected, matches, type Credential } from './auth';

/** What a Bull Board user may do: look (`viewer`), or also retry, remove, promote … (`operator`). */
export type BoardRole = 'viewer' | 'operator';

/** One basic-auth user of Bull Board. */
export interface BoardUser {
  name: string;
  role: BoardRole;
  password: Credential;
}

/** Who sent a board request: the basic-auth user, or `api-token` for the bearer token. */
export interface BoardPrincipal {
  user: string;
  role: BoardRole;
}

/** The challenge of every 401 of the board: browsers show their login dialog for it. */
export const boardChallenge = 'Basic realm="agentry"';

/**
 * Authenticate a board request: the basic credentials of one of `users`, or `Authorization:
 * Bearer` equal to `token` (the API token, accepted as an operator so scripts can use it).
 * Answers 401 with the Basic challenge when nothing matches, 503 when a credential cannot be
 * resolved (the secret backend is down), and resolves to undefined then. Never throws.
 */
export function boardAuthenticator(options: {
  users: readonly BoardUser[];
  token: Credential | undefined;
}) {
  return async (
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<BoardPrincipal | undefined> => {
    const header = request.headers.authorization;
    const bearer = credentials(header, 'Bearer');
    if (bearer && options.token) {
      const wanted = await expected(options.token, reply);
      if (wanted === undefined) return undefined;
      if (await matches(bearer, wanted, options.token))
        return { user: 'api-token', role: 'operator' };
    }
    const basic = basicCredentials(header);
    const user = basic && options.users.find((u) => u.name === basic.user);
    if (basic && user) {
      const wanted = await expected(user.password, reply);
      if (wanted === undefined) return undefined;
      if (await matches(basic.password, wanted, user.password)) {
        return { user: user.name, role: user.role };
      }
    }
    await reply
      .code(401)
      .header('www-authenticate', boardChallenge)
      .send({ error: { code: 'POLICY_DENIED', message: 'authentication required' } });
    return undefined;
  };
}
