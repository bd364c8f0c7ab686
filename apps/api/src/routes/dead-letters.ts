import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { resumeRun } from '@agentry/engine';
import { AppError, queueNames } from '@agentry/schema';
import type { ApiDeps } from '../api-deps';
import { parseInput } from './parse-input';

const Params = z.object({ id: z.uuid('dead letter id must be a UUID') });
const Cursor = z
  .string()
  .regex(/^[^,]+,[0-9a-f-]{36}$/, 'after: the `next` of the previous page')
  .transform((c) => {
    const [at = '', id = ''] = c.split(',');
    return { failedAt: new Date(at), id };
  })
  .refine((c) => !Number.isNaN(c.failedAt.getTime()), 'after: the `next` of the previous page');
const ListQuery = z.object({
  queue: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  includeReplayed: z.enum(['true', 'false']).default('false'),
  after: Cursor.optional(),
});
const Purge = z.strictObject({
  ids: z.array(z.uuid()).max(1_000).optional(),
  olderThan: z.iso.datetime().optional(),
});

/**
 * Replaying the dead letter of the step that failed its run resumes the run from that step (the
 * step, and what was cancelled or undone since, run again); undefined for any other dead letter,
 * which is replayed as a job.
 */
async function resumeFailedRun(deps: ApiDeps, id: string) {
  const letter = await deps.engine.repos.deadLetters.get(id);
  if (letter?.runId == null || letter.stepId == null || letter.sourceQueue !== queueNames.step)
    return undefined;
  const run = await deps.engine.repos.runs.get(letter.runId);
  if (run?.state !== 'failed') return undefined;
  const resumed = await resumeRun(deps.engine, {
    runId: run.id,
    stepId: letter.stepId,
    actor: 'api',
    reason: `dead letter ${id} replayed`,
  });
  await deps.deadLetters.acknowledge(id);
  return {
    id,
    sourceQueue: letter.sourceQueue,
    jobId: letter.jobId,
    mode: 'resumed' as const,
    resumed,
  };
}

export function deadLetterRoutes(app: FastifyInstance, deps: ApiDeps) {
  const repo = deps.engine.repos.deadLetters;

  app.get('/v1/dead-letters', async (request) => {
    const q = parseInput(ListQuery, request.query, 'query');
    const deadLetters = await repo.list({
      limit: q.limit,
      sourceQueue: q.queue,
      includeReplayed: q.includeReplayed === 'true',
      ...(q.after ? { after: q.after } : {}),
    });
    // A full page may have a next one: `next` is the cursor to ask for it (`after=<next>`).
    const last = deadLetters.length === q.limit ? deadLetters.at(-1) : undefined;
    return {
      deadLetters,
      ...(last ? { next: `${last.failedAt.toISOString()},${last.id}` } : {}),
    };
  });

  app.get('/v1/dead-letters/:id', async (request) => {
    const { id } = parseInput(Params, request.params, 'dead letter id');
    const letter = await repo.get(id);
    if (!letter) throw new AppError('NOT_FOUND', `dead letter ${id} does not exist`);
    return letter;
  });

  app.post('/v1/dead-letters/:id/replay', async (request) => {
    const { id } = parseInput(Params, request.params, 'dead letter id');
    const resumed = await resumeFailedRun(deps, id);
    const result = resumed ?? (await deps.deadLetters.replay(id));
    await deps.engine.repos.audit.record({
      actor: 'api',
      action: 'dead-letter.replay',
      targetType: 'dead_letter',
      targetId: id,
      details: {},
    });
    return result;
  });

  app.post('/v1/dead-letters/purge', async (request) => {
    const body = parseInput(Purge, request.body, 'purge request');
    if (!body.ids && !body.olderThan)
      throw new AppError('VALIDATION', 'purge needs ids or olderThan');
    const purged = await deps.deadLetters.purge({
      ids: body.ids,
      olderThan: body.olderThan ? new Date(body.olderThan) : undefined,
    });
    await deps.engine.repos.audit.record({
      actor: 'api',
      action: 'dead-letter.purge',
      targetType: 'dead_letter',
      targetId: body.ids?.join(',').slice(0, 200) ?? `older-than:${body.olderThan}`,
      details: { purged },
    });
    return { purged };
  });
}
