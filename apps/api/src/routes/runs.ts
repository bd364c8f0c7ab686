import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  approveRun,
  cancelRun,
  rejectRun,
  submitIntent,
  type EngineProducer,
} from '@agentry/engine';
import { AppError, RunState, TenantId, toAppError } from '@agentry/schema';
import type { ApiDeps } from '../api-deps';
import { parseInput } from './parse-input';

const RunParams = z.object({ id: z.uuid('run id must be a UUID') });
const Decision = z.strictObject({
  actor: z.string().min(1).max(128).optional(),
  reason: z.string().max(2_000).optional(),
});
const ListQuery = z.object({
  tenantId: TenantId.optional(),
  state: RunState.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export function runRoutes(app: FastifyInstance, deps: ApiDeps) {
  const { engine } = deps;

  app.post('/v1/runs', async (request, reply) => {
    const body = request.body;
    const header = request.headers['idempotency-key'];
    const intent =
      typeof header === 'string' &&
      body !== null &&
      typeof body === 'object' &&
      // Spreading an array would turn it into an object and hide the real issue (not an object).
      !Array.isArray(body) &&
      !('idempotencyKey' in body)
        ? { ...body, idempotencyKey: header }
        : body;
    // submitIntent commits the run, then enqueues its plan job. When only that enqueue fails
    // (Redis down), the intent is durably accepted: the run stays `pending` and the planner's
    // reconciler enqueues it once Redis is back. Answering 503 then would invite a producer
    // without an idempotency key to retry and create a second run, so the answer is 202 with
    // `queued: false`. Postgres down still fails before the commit, with 503.
    let queued = true;
    const producer: EngineProducer = {
      enqueue: async (kind, payload, options) => {
        try {
          return await engine.producer.enqueue(kind, payload, options);
        } catch (e) {
          const error = toAppError(e);
          if (error.code !== 'UNAVAILABLE') throw error;
          queued = false;
          request.log.warn(
            { err: error, jobId: options.jobId },
            'plan job not enqueued (redis unavailable); the reconciler will enqueue it',
          );
          return { jobId: options.jobId, created: false };
        }
      },
    };
    const result = await submitIntent({ ...engine, producer }, intent, {
      correlationId: request.id,
    });
    return reply
      .code(result.created ? 202 : 200)
      .header('location', `/v1/runs/${result.runId}`)
      .send({ ...result, queued, links: { self: `/v1/runs/${result.runId}` } });
  });

  app.get('/v1/runs', async (request) => {
    const q = parseInput(ListQuery, request.query, 'query');
    return { runs: await engine.repos.runs.list(q) };
  });

  app.get('/v1/runs/:id', async (request) => {
    const { id } = parseInput(RunParams, request.params, 'run id');
    const detail = await engine.repos.runs.detail(id);
    if (!detail) throw new AppError('NOT_FOUND', `run ${id} does not exist`);
    return detail;
  });

  const decisions = { approve: approveRun, reject: rejectRun, cancel: cancelRun } as const;
  for (const [verb, decide] of Object.entries(decisions)) {
    app.post(`/v1/runs/:id/${verb}`, async (request) => {
      const { id } = parseInput(RunParams, request.params, 'run id');
      const d = parseInput(Decision, request.body, 'decision');
      return decide(engine, { runId: id, actor: d.actor ?? 'api', reason: d.reason });
    });
  }
}
