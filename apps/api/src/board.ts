import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { AuditRepository } from '@agentry/db';
import { toError } from '@agentry/schema';
import type { Credential } from './auth';
import { boardAction } from './board-action';
import { boardAuthenticator, type BoardPrincipal, type BoardUser } from './board-auth';

/** Where Bull Board is served. */
export const boardPath = '/admin/queues';

/** The only methods a viewer may use: no route of Bull Board changes anything on them. */
const readMethods = new Set(['GET', 'HEAD']);

export interface BoardOptions {
  /** Every agentry queue, the dead-letter queue included. */
  queues: readonly Queue[];
  /** Basic-auth users and their roles; at least one, or the board should not be registered. */
  users: readonly BoardUser[];
  /** `Authorization: Bearer` accepted as an operator (the API token); undefined: none. */
  token: Credential | undefined;
  /** Where every mutating request is recorded. */
  audit: Pick<AuditRepository, 'record'>;
}

/**
 * Serve Bull Board at {@link boardPath} for its users: every route (page, assets, API, unknown
 * paths) answers 401 without valid credentials; a viewer gets 403 on every method but GET and
 * HEAD; every mutating request of an authenticated user is an audit event.
 *
 * Roles on one board rather than two: Bull Board's `readOnlyMode` is fixed per queue adapter when
 * the board is built, and two boards cannot share a path in one Fastify router (choosing one per
 * request would mean re-dispatching raw requests after authentication). So there is one writable
 * board, and the role is enforced here, before Bull Board sees the request — by HTTP method, not
 * by a list of routes, so a route a Bull Board upgrade adds is covered too. The viewer's UI is
 * made read-only by answering its queue list with `readOnlyMode: true`, which is what the UI reads
 * to hide retry, remove, promote, pause and the like; that is presentation only.
 */
export async function registerBoard(app: FastifyInstance, options: BoardOptions): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(boardPath);
  createBullBoard({ queues: options.queues.map((q) => new BullMQAdapter(q)), serverAdapter });

  const authenticate = boardAuthenticator(options);
  const principals = new WeakMap<FastifyRequest, BoardPrincipal>();
  const writes = new Set<Promise<void>>();

  await app.register(
    async (board) => {
      board.addHook('onRequest', async (request, reply) => {
        const who = await authenticate(request, reply);
        if (!who) return reply;
        principals.set(request, who);
        if (who.role === 'viewer' && !readMethods.has(request.method)) {
          return reply.code(403).send({
            error: { code: 'POLICY_DENIED', message: 'the viewer role of Bull Board is read-only' },
          });
        }
        return undefined;
      });

      board.addHook('onSend', async (request, reply, payload) =>
        principals.get(request)?.role === 'viewer' &&
        reply.statusCode === 200 &&
        request.routeOptions.url === `${boardPath}/api/queues`
          ? readOnlyQueues(payload)
          : payload,
      );

      // After the response, so auditing never delays or fails it; a failed write is logged.
      board.addHook('onResponse', async (request, reply) => {
        const who = principals.get(request);
        if (!who || readMethods.has(request.method)) return;
        const route = request.routeOptions.url?.slice(boardPath.length);
        const params = (request.params ?? {}) as Record<string, unknown>;
        const entry = {
          actor: `board:${who.user}`,
          ...boardAction(route, request.method, params),
          details: {
            status: reply.statusCode,
            role: who.role,
            method: request.method,
            route: route ?? null,
            correlationId: request.id,
            ...(typeof params.queueStatus === 'string' ? { jobStatus: params.queueStatus } : {}),
          },
        };
        const write = options.audit.record(entry).then(
          () => undefined,
          (err: unknown) =>
            request.log.error(
              { err: toError(err), action: entry.action, targetId: entry.targetId },
              'board audit event not written',
            ),
        );
        writes.add(write);
        void write.finally(() => writes.delete(write));
      });
      // Audit writes still in flight finish before the database is closed behind the server.
      board.addHook('onClose', async () => {
        await Promise.all(writes);
      });

      // Unknown paths under the board are authenticated too (the hooks above run first).
      board.setNotFoundHandler(async (request, reply) =>
        reply.code(404).send({
          error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` },
        }),
      );
      await board.register(serverAdapter.registerPlugin());
    },
    { prefix: boardPath },
  );
}

/** The queue list answer with every queue read-only, as the viewer's UI must show it. */
function readOnlyQueues(payload: unknown): unknown {
  if (typeof payload !== 'string') return payload;
  try {
    const body = JSON.parse(payload) as { queues?: unknown };
    if (!Array.isArray(body.queues)) return payload;
    body.queues = body.queues.map((queue: Record<string, unknown>) => ({
      ...queue,
      readOnlyMode: true,
      allowRetries: false,
      allowCompletedRetries: false,
    }));
    return JSON.stringify(body);
  } catch {
    return payload;
  }
}
