import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { LogLevelChange } from '@agentry/schema';
import type { ApiDeps } from '../api-deps';
import { parseInput } from './parse-input';

const Change = LogLevelChange.extend({ actor: z.string().min(1).max(128).optional() });

/** Operator controls of the running fleet. */
export function adminRoutes(app: FastifyInstance, deps: ApiDeps) {
  /**
   * Set the log level of every process of a component (`planner`, `executor`, `api`, `dev`) or
   * of `all`, at once and without a restart; answers how many processes listen. Audited.
   */
  app.put('/v1/admin/log-level', async (request) => {
    const { actor, ...change } = parseInput(Change, request.body, 'log level');
    const processes = await deps.announceLogLevel(change);
    await deps.engine.repos.audit.record({
      actor: actor ?? 'api',
      action: 'log-level.set',
      targetType: 'component',
      targetId: change.component,
      details: { level: change.level, processes },
    });
    return { ...change, processes };
  });
}
