import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, TenantId } from '@agentry/schema';
import type { ApiDeps } from '../api-deps';
import { parseInput } from './parse-input';

/** As `Intent.conversationId`: 1-128 printable ASCII characters, no spaces (percent-encoded in paths). */
const ConversationId = z
  .string()
  .regex(/^[\x21-\x7e]{1,128}$/, 'conversation id: 1-128 printable ASCII characters, no spaces');
const ListQuery = z.object({
  tenantId: TenantId.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  /** Only conversations whose last turn is before this instant (paging). */
  before: z.iso.datetime({ offset: true }).optional(),
});
const ConversationParams = z.object({ tenantId: TenantId, conversationId: ConversationId });
const TurnsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  /** Only turns numbered below this one (paging back through a long conversation). */
  beforeTurn: z.coerce.number().int().min(1).optional(),
});

/** `GET /v1/conversations` and `GET /v1/tenants/:tenantId/conversations/:conversationId`. */
export function conversationRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const repo = deps.engine.repos.conversations;

  app.get('/v1/conversations', async (request) => {
    const q = parseInput(ListQuery, request.query, 'query');
    const conversations = await repo.list({
      tenantId: q.tenantId,
      limit: q.limit,
      before: q.before === undefined ? undefined : new Date(q.before),
    });
    return { conversations };
  });

  // A wildcard, not `:conversationId`: the router refuses a parameter over 100 characters (414),
  // and an id may be 128, three times that once percent-encoded.
  app.get('/v1/tenants/:tenantId/conversations/*', async (request) => {
    const params = request.params as { tenantId?: string; '*'?: string };
    const { tenantId, conversationId } = parseInput(
      ConversationParams,
      { tenantId: params.tenantId, conversationId: params['*'] },
      'conversation',
    );
    const q = parseInput(TurnsQuery, request.query, 'query');
    const conversation = await repo.get(tenantId, conversationId);
    if (!conversation) {
      throw new AppError(
        'NOT_FOUND',
        `conversation ${conversationId} of tenant ${tenantId} does not exist`,
      );
    }
    return { conversation, turns: await repo.turns(tenantId, conversationId, q) };
  });
}
