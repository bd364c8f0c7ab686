import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { amendRunPlan, approveRun, cancelRun, rejectRun, submitIntent } from '@agentry/engine';
import { AppError, Intent, RunState, TenantId, limits, type PlanInput } from '@agentry/schema';
import type { ApiDeps } from '../api-deps';
import { parseInput } from './parse-input';

const RunParams = z.object({ id: z.uuid('run id must be a UUID') });
const Decision = z.strictObject({
  actor: z.string().min(1).max(128).optional(),
  reason: z.string().max(2_000).optional(),
});
const Approval = Decision.extend({
  planHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'planHash: the 64 hex characters of the reviewed plan (plan.hash)'),
  budgetUsd: z.number().positive().max(1_000_000).optional(),
});
const Amendment = Decision.extend({
  summary: z.string().min(1).max(2_000),
  steps: z.array(z.unknown()).min(1).max(limits.planMaxSteps),
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
    // Refused before anything is saved while Redis cannot take it (503, Retry-After): the caller
    // retries with the same idempotency key. Bad input is still refused as such (400, kept).
    if (Intent.safeParse(intent).success) deps.admission?.check('the intent');
    const traceparent = request.headers.traceparent;
    const result = await submitIntent(engine, intent, {
      correlationId: request.id,
      // The caller's trace: the run's root span links to it (the run keeps a trace of its own).
      ...(typeof traceparent === 'string' ? { traceparent } : {}),
    });
    return reply
      .code(result.created ? 202 : 200)
      .header('location', `/v1/runs/${result.runId}`)
      .send({ ...result, links: { self: `/v1/runs/${result.runId}` } });
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

  app.post('/v1/runs/:id/approve', async (request) => {
    const { id } = parseInput(RunParams, request.params, 'run id');
    const a = parseInput(Approval, request.body, 'approval');
    return approveRun(engine, {
      runId: id,
      actor: a.actor ?? 'api',
      reason: a.reason,
      planHash: a.planHash,
      ...(a.budgetUsd === undefined ? {} : { budgetUsd: a.budgetUsd }),
    });
  });

  app.put('/v1/runs/:id/plan', async (request) => {
    const { id } = parseInput(RunParams, request.params, 'run id');
    const a = parseInput(Amendment, request.body, 'plan amendment');
    if (!deps.amend) throw new AppError('UNAVAILABLE', 'plan amendment is not configured here');
    return amendRunPlan(
      { ...engine, ...deps.amend },
      {
        runId: id,
        actor: a.actor ?? 'api',
        ...(a.reason === undefined ? {} : { reason: a.reason }),
        plan: { summary: a.summary, steps: a.steps as PlanInput['steps'] },
      },
    );
  });

  const decisions = { reject: rejectRun, cancel: cancelRun } as const;
  for (const [verb, decide] of Object.entries(decisions)) {
    app.post(`/v1/runs/:id/${verb}`, async (request) => {
      const { id } = parseInput(RunParams, request.params, 'run id');
      const d = parseInput(Decision, request.body, 'decision');
      return decide(engine, { runId: id, actor: d.actor ?? 'api', reason: d.reason });
    });
  }
}
